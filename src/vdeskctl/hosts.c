/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* vdeskctl's host commands: clusters, the hosts in them (libvirt URIs),
 * maintenance, and where a new desktop would be placed. */

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"
#include "vdeskctl.h"

const char help_hosts[] =
        "Hosts and clusters:\n"
        "  clusters                         list them, with their hosts and desktops\n"
        "  create-cluster NAME CAPACITY     a cluster of at most CAPACITY desktops\n"
        "  delete-cluster NAME              refused while it has hosts or categories\n"
        "  assign-cluster CLUSTER CATEGORY  new desktops of the category go to the cluster\n"
        "  reclaim-cluster CLUSTER CATEGORY they go to the broker's own host's cluster again\n"
        "  hosts                            list the hosts with state and load\n"
        "  host NAME                        show one\n"
        "  add-host NAME URI CLUSTER [ADDRESS]\n"
        "                                   e.g. add-host node2 qemu+tls://node2.example/system\n"
        "                                   default 192.0.2.12 (ADDRESS: where staff reach its\n"
        "                                   forwards, if the URI names the host by name)\n"
        "  remove-host NAME                 refused while desktops are defined there\n"
        "  move DESKTOP HOST                a stopped desktop is defined on HOST instead\n"
        "  maintenance NAME on|off          no new desktops go to a host in maintenance\n"
        "  place [CATEGORY]                 where a new desktop would go, and why\n"
        "  monitor                          every host's and desktop's figures (vdesk-monitord)\n\n";

typedef struct HostRow {
        const char *name, *uri, *cluster, *address, *state, *reason;
        uint32_t desktops, running;
        uint64_t memory_kib, free_kib, committed_kib;
        double cpu, score;
} HostRow;

static int read_host(sd_bus_message *m, HostRow *h) {
        return sd_bus_message_read(m, HOST_SIGNATURE, &h->name, &h->uri, &h->cluster, &h->address, &h->state,
                                   &h->reason, &h->desktops, &h->running, &h->memory_kib, &h->free_kib,
                                   &h->committed_kib, &h->cpu, &h->score);
}

static int cmd_hosts(char **args) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        unsigned n = 0;
        HostRow h;
        int r;

        if (bus_call_list(&reply, BROKERD, "ListHosts", HOST_SIGNATURE) < 0)
                return EXIT_FAILURE;
        printf("%-16s %-12s %-11s %-15s %8s %7s %9s %9s %6s %s\n", "HOST", "CLUSTER", "STATE", "ADDRESS", "DESKTOPS",
               "RUNNING", "MEM-GIB", "FREE-GIB", "SCORE", "URI");
        while ((r = read_host(reply, &h)) > 0) {
                printf("%-16s %-12s %-11s %-15s %8u %7u %9.1f %9.1f %6.3f %s\n", h.name, h.cluster, h.state,
                       h.address, h.desktops, h.running, h.memory_kib / 1048576.0, h.free_kib / 1048576.0, h.score,
                       h.uri);
                n++;
        }
        return print_list_end(r, n, "host");
}

static int cmd_host(char **args) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        HostRow h;
        int r;

        r = bus_call_method(&reply, &e, 0, BROKERD, "GetHost", "s", args[0]);
        if (r < 0)
                return print_bus_error(&e, r);
        r = read_host(reply, &h);
        if (r < 0)
                return print_bus_error(NULL, r);
        printf("Host:       %s\nURI:        %s\nCluster:    %s\nAddress:    %s\nState:      %s%s%s\n", h.name, h.uri,
               h.cluster, h.address, h.state, isempty(h.reason) ? "" : " - ", h.reason);
        printf("Desktops:   %u defined, %u domains running\n", h.desktops, h.running);
        printf("Memory:     %.2f GiB, %.2f GiB free, %.2f GiB committed to running domains\n",
               h.memory_kib / 1048576.0, h.free_kib / 1048576.0, h.committed_kib / 1048576.0);
        printf("CPU:        %.1f %% used by its domains\nLoad score: %.3f (committed/memory + CPU share)\n",
               h.cpu * 100.0, h.score);
        return EXIT_SUCCESS;
}

static int cmd_add_host(char **args) {
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        int r;

        /* the broker answers once the host did, or after its connect timeout */
        r = bus_call_method(NULL, &e, 120 * USEC_PER_SEC, BROKERD, "AddHost", "ssss", args[0], args[1], args[2],
                            strempty(args[3]));
        if (r < 0)
                return print_bus_error(&e, r);
        printf("Added host %s (%s) to cluster %s.\n", args[0], args[1], args[2]);
        return EXIT_SUCCESS;
}

static int cmd_remove_host(char **args) {
        return bus_call_simple(BROKERD, "RemoveHost", "s", args[0], NULL, "Removed host");
}

static int cmd_move(char **args) {
        int r = bus_call_simple(BROKERD, "MoveDesktop", "ss", args[0], args[1], NULL);

        if (r == EXIT_SUCCESS)
                printf("Moved %s to %s.\n", args[0], args[1]);
        return r;
}

static int cmd_maintenance(char **args) {
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        int on, r;

        if (streq(args[1], "on"))
                on = 1;
        else if (streq(args[1], "off"))
                on = 0;
        else {
                fprintf(stderr, "vdeskctl: maintenance takes on or off, not '%s'\n", args[1]);
                return EXIT_FAILURE;
        }
        r = bus_call_method(NULL, &e, 0, BROKERD, "SetHostMaintenance", "sb", args[0], on);
        if (r < 0)
                return print_bus_error(&e, r);
        printf("Host %s %s maintenance.\n", args[0], on ? "in" : "out of");
        return EXIT_SUCCESS;
}

static int cmd_place(char **args) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        const char *host, *reason;
        int r;

        r = bus_call_method(&reply, &e, 0, BROKERD, "PlaceDesktop", "s", strempty(args[0]));
        if (r >= 0)
                r = sd_bus_message_read(reply, "ss", &host, &reason);
        if (r < 0)
                return print_bus_error(&e, r);
        printf("A new desktop%s%s would go to %s.\n", args[0] ? " of category " : "", strempty(args[0]), host);
        for (const char *p = reason; *p;) {
                size_t k = strcspn(p, ";");
                printf("  %.*s\n", (int) k, p);
                p += k;
                p += strspn(p, "; ");
        }
        return EXIT_SUCCESS;
}

static int cmd_clusters(char **args) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        const char *name;
        uint32_t capacity, hosts, desktops;
        unsigned n = 0;
        int r;

        if (bus_call_list(&reply, BROKERD, "ListClusters", CLUSTER_SIGNATURE) < 0)
                return EXIT_FAILURE;
        printf("%-16s %8s %6s %8s\n", "CLUSTER", "CAPACITY", "HOSTS", "DESKTOPS");
        while ((r = sd_bus_message_read(reply, CLUSTER_SIGNATURE, &name, &capacity, &hosts, &desktops)) > 0) {
                printf("%-16s %8u %6u %8u\n", name, capacity, hosts, desktops);
                n++;
        }
        return print_list_end(r, n, "cluster");
}

static int cmd_create_cluster(char **args) {
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        unsigned long capacity;
        int r;

        /* the broker says what range it takes */
        if (parse_uint_max(args[1], UINT32_MAX, &capacity) < 0) {
                fprintf(stderr, "vdeskctl: capacity '%s' is not a number\n", args[1]);
                return EXIT_FAILURE;
        }
        r = bus_call_method(NULL, &e, 0, BROKERD, "CreateCluster", "su", args[0], (uint32_t) capacity);
        if (r < 0)
                return print_bus_error(&e, r);
        printf("Created cluster %s (at most %lu desktops).\n", args[0], capacity);
        return EXIT_SUCCESS;
}

static int cmd_delete_cluster(char **args) {
        return bus_call_simple(BROKERD, "DeleteCluster", "s", args[0], NULL, "Deleted cluster");
}

/* AssignCluster or ReclaimCluster CLUSTER CATEGORY */
static int category_cluster(char **args, bool assign) {
        int r = bus_call_simple(BROKERD, assign ? "AssignCluster" : "ReclaimCluster", "ss", args[0], args[1], NULL);

        if (r == EXIT_SUCCESS)
                printf("New desktops of category %s %s cluster %s.\n", args[1], assign ? "go to" : "no longer go to",
                       args[0]);
        return r;
}

static int cmd_assign_cluster(char **args) { return category_cluster(args, true); }
static int cmd_reclaim_cluster(char **args) { return category_cluster(args, false); }

static int cmd_monitor(char **args) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        const char *name, *uri, *state, *hostname, *model, *desktop;
        uint32_t cpus, sockets, cores, threads, mhz, max_vcpus, running, vcpus;
        uint64_t sampled, memory, free_kib, max_memory, uptime;
        double cpu, rd, wr, rdq, wrq, rx, tx;
        int r;

        r = bus_call_method(&reply, &e, 0, MONITORD, "GetSnapshot", NULL);
        if (r >= 0)
                r = sd_bus_message_read(reply, "t", &sampled);
        if (r >= 0)
                r = sd_bus_message_enter_container(reply, 'a', HOST_STATS_SIGNATURE);
        if (r < 0)
                return print_bus_error(&e, r);
        printf("%-16s %-5s %-20s %13s %9s %9s %6s %8s\n", "HOST", "STATE", "CPU", "S/C/T x MHZ", "MEM-GIB",
               "FREE-GIB", "CPU%", "DESKTOPS");
        while ((r = sd_bus_message_read(reply, HOST_STATS_SIGNATURE, &name, &uri, &state, &hostname, &model, &cpus,
                                        &sockets, &cores, &threads, &mhz, &max_vcpus, &memory, &free_kib, &cpu,
                                        &running)) > 0) {
                char topo[32];

                snprintf(topo, sizeof topo, "%u/%u/%u x %u", sockets, cores, threads, mhz);
                printf("%-16s %-5s %-20s %13s %9.1f %9.1f %6.1f %8u\n", name, state, model, topo,
                       memory / 1048576.0, free_kib / 1048576.0, cpu * 100.0, running);
        }
        if (r >= 0)
                r = sd_bus_message_exit_container(reply);
        if (r >= 0)
                r = sd_bus_message_enter_container(reply, 'a', DESKTOP_STATS_SIGNATURE);
        if (r < 0)
                return print_bus_error(NULL, r);
        printf("\n%-20s %-16s %-8s %5s %9s %6s %10s %10s %10s %10s %9s\n", "DESKTOP", "HOST", "STATE", "VCPUS",
               "MEM-MIB", "CPU%", "DISK-RD/S", "DISK-WR/S", "NET-RX/S", "NET-TX/S", "UPTIME-S");
        while ((r = sd_bus_message_read(reply, DESKTOP_STATS_SIGNATURE, &name, &desktop, &state, &vcpus, &memory,
                                        &max_memory, &cpu, &rd, &wr, &rdq, &wrq, &rx, &tx, &uptime)) > 0)
                printf("%-20s %-16s %-8s %5u %9.0f %6.1f %10.0f %10.0f %10.0f %10.0f %9" PRIu64 "\n", desktop, name,
                       state, vcpus, memory / 1024.0, cpu * 100.0, rd, wr, rx, tx, uptime);
        return r < 0 ? print_bus_error(NULL, r) : EXIT_SUCCESS;
}

const Verb host_verbs[] = {
        { "clusters",        0, 0, cmd_clusters },
        { "create-cluster",  2, 2, cmd_create_cluster },
        { "delete-cluster",  1, 1, cmd_delete_cluster },
        { "assign-cluster",  2, 2, cmd_assign_cluster },
        { "reclaim-cluster", 2, 2, cmd_reclaim_cluster },
        { "hosts",           0, 0, cmd_hosts },
        { "host",            1, 1, cmd_host },
        { "add-host",        3, 4, cmd_add_host },
        { "remove-host",     1, 1, cmd_remove_host },
        { "move",            2, 2, cmd_move },
        { "maintenance",     2, 2, cmd_maintenance },
        { "place",           0, 1, cmd_place },
        { "monitor",         0, 0, cmd_monitor },
        {}
};
