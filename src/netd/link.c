/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <arpa/inet.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/if.h>
#include <linux/if_link.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>

#include "bus-error.h"
#include "link.h"
#include "macro.h"
#include "util.h"

/* ---- rtnetlink --------------------------------------------------------------- */

/* Sends one request, which must ask for an answer that ends (NLM_F_ACK, or
 * a dump), and runs cb on each answer; the kernel's error as a negative
 * errno. */
static int rtnl_request(struct nlmsghdr *nlh, mnl_cb_t cb, void *data) {
        struct mnl_socket *nl;
        char buf[MNL_SOCKET_BUFFER_SIZE];
        unsigned portid;
        uint32_t seq = (uint32_t) time(NULL);
        int r;

        nl = mnl_socket_open(NETLINK_ROUTE);
        if (!nl)
                return -errno;
        if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
                r = -errno;
                mnl_socket_close(nl);
                return r;
        }
        /* the kernel answers at once; never wait on it for long */
        (void) setsockopt(mnl_socket_get_fd(nl), SOL_SOCKET, SO_RCVTIMEO,
                          &(struct timeval) { .tv_sec = 5 }, sizeof(struct timeval));
        portid = mnl_socket_get_portid(nl);
        nlh->nlmsg_seq = seq;
        if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
                r = -errno;
                mnl_socket_close(nl);
                return r;
        }
        do {
                ssize_t n = mnl_socket_recvfrom(nl, buf, sizeof buf);

                if (n < 0) {
                        r = -errno;
                        break;
                }
                errno = 0;
                r = mnl_cb_run(buf, (size_t) n, seq, portid, cb, data);
                if (r < 0)
                        r = errno ? -errno : -EIO;
        } while (r > 0);
        mnl_socket_close(nl);
        return r < 0 ? r : 0;
}

static struct nlmsghdr *link_msg(char *buf, uint16_t type, uint16_t flags, int index) {
        struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
        struct ifinfomsg *ifi;

        nlh->nlmsg_type = type;
        nlh->nlmsg_flags = NLM_F_REQUEST | flags;
        ifi = mnl_nlmsg_put_extra_header(nlh, sizeof *ifi);
        ifi->ifi_family = AF_UNSPEC;
        ifi->ifi_index = index;
        return nlh;
}

/* ---- reading a link ---------------------------------------------------------- */

typedef struct LinkInfo {
        int index;
        char kind[16];
        int master;
        int parent;                     /* vlan: IFLA_LINK; vxlan: IFLA_VXLAN_LINK */
        unsigned mtu;
        bool up;
        unsigned vlan_id;
        uint32_t vni, local, group;     /* host order */
        uint16_t port;
} LinkInfo;

static int attr_table_cb(const struct nlattr *a, void *data) {
        const struct nlattr **tb = data;
        int type = mnl_attr_get_type(a);

        if (type >= 0 && type <= 64)
                tb[type] = a;
        return MNL_CB_OK;
}

static uint32_t attr_ipv4(const struct nlattr *a) {
        return a && mnl_attr_get_payload_len(a) == 4 ? ntohl(mnl_attr_get_u32(a)) : 0;
}

static int link_info_cb(const struct nlmsghdr *nlh, void *data) {
        const struct nlattr *tb[65] = {}, *info[65] = {}, *kd[65] = {};
        struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);
        LinkInfo *l = data;

        mnl_attr_parse(nlh, sizeof *ifi, attr_table_cb, tb);
        *l = (LinkInfo) { .index = ifi->ifi_index, .up = ifi->ifi_flags & IFF_UP };
        if (tb[IFLA_MTU])
                l->mtu = mnl_attr_get_u32(tb[IFLA_MTU]);
        if (tb[IFLA_MASTER])
                l->master = (int) mnl_attr_get_u32(tb[IFLA_MASTER]);
        if (tb[IFLA_LINK])
                l->parent = (int) mnl_attr_get_u32(tb[IFLA_LINK]);
        if (!tb[IFLA_LINKINFO])
                return MNL_CB_OK;
        mnl_attr_parse_nested(tb[IFLA_LINKINFO], attr_table_cb, info);
        if (info[IFLA_INFO_KIND])
                snprintf(l->kind, sizeof l->kind, "%s", mnl_attr_get_str(info[IFLA_INFO_KIND]));
        if (!info[IFLA_INFO_DATA])
                return MNL_CB_OK;
        mnl_attr_parse_nested(info[IFLA_INFO_DATA], attr_table_cb, kd);
        if (streq(l->kind, "vlan") && kd[IFLA_VLAN_ID])
                l->vlan_id = mnl_attr_get_u16(kd[IFLA_VLAN_ID]);
        if (streq(l->kind, "vxlan")) {
                if (kd[IFLA_VXLAN_ID])
                        l->vni = mnl_attr_get_u32(kd[IFLA_VXLAN_ID]);
                l->local = attr_ipv4(kd[IFLA_VXLAN_LOCAL]);
                l->group = attr_ipv4(kd[IFLA_VXLAN_GROUP]);
                l->parent = kd[IFLA_VXLAN_LINK] ? (int) mnl_attr_get_u32(kd[IFLA_VXLAN_LINK]) : 0;
                if (kd[IFLA_VXLAN_PORT])
                        l->port = ntohs(mnl_attr_get_u16(kd[IFLA_VXLAN_PORT]));
        }
        return MNL_CB_OK;
}

/* The link called name; -ENODEV if there is none. */
static int link_get(const char *name, LinkInfo *ret) {
        char buf[MNL_SOCKET_BUFFER_SIZE];
        struct nlmsghdr *nlh = link_msg(buf, RTM_GETLINK, NLM_F_ACK, 0);

        mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
        *ret = (LinkInfo) {};
        return rtnl_request(nlh, link_info_cb, ret);
}

typedef struct Addresses {
        int index;              /* only this link's; 0: every link's */
        uint32_t a[256];
        size_t n;
} Addresses;

static int address_cb(const struct nlmsghdr *nlh, void *data) {
        const struct nlattr *tb[65] = {};
        struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(nlh);
        Addresses *as = data;

        if (ifa->ifa_family != AF_INET || (as->index && (int) ifa->ifa_index != as->index))
                return MNL_CB_OK;
        mnl_attr_parse(nlh, sizeof *ifa, attr_table_cb, tb);
        if (tb[IFA_LOCAL] && as->n < ELEMENTSOF(as->a))
                as->a[as->n++] = attr_ipv4(tb[IFA_LOCAL]);
        return MNL_CB_OK;
}

/* This host's IPv4 addresses (ret->index: those of that link alone). */
static int local_addresses(Addresses *ret) {
        char buf[MNL_SOCKET_BUFFER_SIZE];
        struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
        struct ifaddrmsg *ifa;

        nlh->nlmsg_type = RTM_GETADDR;
        nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
        ifa = mnl_nlmsg_put_extra_header(nlh, sizeof *ifa);
        ifa->ifa_family = AF_INET;
        ret->n = 0;
        return rtnl_request(nlh, address_cb, ret);
}

static bool addresses_contain(const Addresses *as, uint32_t a) {
        for (size_t i = 0; i < as->n; i++)
                if (as->a[i] == a)
                        return true;
        return false;
}

/* The uplink's index (0 if s names none); NoSuchUplink if this host has
 * no such link. */
static int check_uplink(const NetworkSpec *s, int *ret_index, sd_bus_error *error) {
        LinkInfo u;
        int r;

        *ret_index = 0;
        if (isempty(s->uplink))
                return 0;
        r = link_get(s->uplink, &u);
        if (r == -ENODEV)
                return bus_error_setf(error, VDESK_ERROR_NO_SUCH_UPLINK, "Invalid uplink: this host has no link '%s'",
                                      s->uplink);
        if (r < 0)
                return bus_error_setf(error, SD_BUS_ERROR_FAILED, "Cannot read link %s: %s", s->uplink, strerror(-r));
        *ret_index = u.index;
        return 0;
}

/* ---- the segment ------------------------------------------------------------------ */

/* What the segment's link is to be on this host. */
typedef struct Plan {
        char name[16];
        int bridge, uplink;
        uint32_t local;                 /* vxlan: the address this host sends from */
        uint32_t remotes[NETWORK_MAX_PEERS];    /* vxlan: the peers that are not this host */
        size_t n_remotes;
} Plan;

/* The bridge's index, once it is a bridge holding the network's gateway. */
/* vdbr<id>, as network_bridge_name() makes it */
static bool bridge_is_department(const char *bridge) {
        const char *p = startswith(bridge, "vdbr");

        if (!p || !*p || *p == '0')
                return false;
        for (; *p; p++)
                if (*p < '0' || *p > '9')
                        return false;
        return true;
}

static int check_bridge(const char *bridge, const NetworkSpec *s, int *ret_index, sd_bus_error *error) {
        Addresses on = {};
        LinkInfo b;
        char gw[16];
        int r;

        r = link_get(bridge, &b);
        if (r == -ENODEV)
                return bus_error_setf(error, VDESK_ERROR_NOT_READY,
                                      "Bridge %s of network %s is not up on this host (its libvirt network is not started)",
                                      bridge, s->name);
        if (r < 0)
                return bus_error_setf(error, SD_BUS_ERROR_FAILED, "Cannot read link %s: %s", bridge, strerror(-r));
        if (!streq(b.kind, "bridge"))
                return bus_error_setf(error, VDESK_ERROR_LINK_CONFLICT, "Link %s is a %s, not network %s's bridge",
                                      bridge, isempty(b.kind) ? "device" : b.kind, s->name);
        /* the broker names its department bridges vdbr<id>: any other
         * bridge (the host's LAN, say) named by a domain's metadata would
         * become a desktop network, closed to the host and masqueraded */
        if (!bridge_is_department(bridge))
                return bus_error_setf(error, VDESK_ERROR_LINK_CONFLICT,
                                      "Bridge %s is not a department network's bridge (vdbr<id>): not network %s's",
                                      bridge, s->name);
        /* libvirt puts the gateway of the network the broker defined on
         * its bridge: a network that names another subnet (metadata of a
         * domain someone else defined) is not that bridge's, and would
         * otherwise become a desktop network that forwards may lead to */
        on.index = b.index;
        r = local_addresses(&on);
        if (r < 0)
                return bus_error_setf(error, SD_BUS_ERROR_FAILED, "Cannot read the addresses of %s: %s", bridge,
                                      strerror(-r));
        if (!addresses_contain(&on, s->gateway)) {
                ipv4_format(s->gateway, gw);
                return bus_error_setf(error, VDESK_ERROR_LINK_CONFLICT,
                                      "Bridge %s does not hold network %s's gateway %s: not the network's bridge",
                                      bridge, s->name, gw);
        }
        *ret_index = b.index;
        return 0;
}

int link_bridge_check(const char *bridge, const NetworkSpec *s, sd_bus_error *error) {
        int index;

        return check_bridge(bridge, s, &index, error);
}

static int plan_segment(const char *bridge, const NetworkSpec *s, Plan *p, sd_bus_error *error) {
        int r;

        *p = (Plan) {};
        if (network_segment_name(s, p->name) < 0)
                return bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Invalid segment: network %s has none",
                                      s->name);
        r = check_bridge(bridge, s, &p->bridge, error);
        if (r < 0)
                return r;
        r = check_uplink(s, &p->uplink, error);
        if (r < 0)
                return r;
        if (s->segment == SEGMENT_VXLAN) {
                Addresses mine = {};

                r = local_addresses(&mine);
                if (r < 0)
                        return bus_error_setf(error, SD_BUS_ERROR_FAILED, "Cannot read this host's addresses: %s",
                                              strerror(-r));
                p->local = s->local;
                for (size_t i = 0; i < s->n_peers; i++)
                        if (addresses_contain(&mine, s->peers[i])) {
                                if (!p->local)
                                        p->local = s->peers[i];
                        } else
                                p->remotes[p->n_remotes++] = s->peers[i];
                if (p->local && !addresses_contain(&mine, p->local)) {
                        char a[16];

                        ipv4_format(p->local, a);
                        return bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
                                              "Invalid local: %s is no address of this host", a);
                }
        }
        return 0;
}

/* Whether the existing link l is the segment p of s. */
static const char *link_mismatch(const LinkInfo *l, const NetworkSpec *s, const Plan *p) {
        if (s->segment == SEGMENT_VLAN) {
                if (!streq(l->kind, "vlan"))
                        return "is no VLAN link";
                if (l->vlan_id != s->vlan_id)
                        return "has another VLAN id";
                if (l->parent != p->uplink)
                        return "is on another uplink";
        } else {
                if (!streq(l->kind, "vxlan"))
                        return "is no VXLAN link";
                if (l->vni != s->vni)
                        return "has another VNI";
                if (l->port != s->port)
                        return "has another UDP port";
                if (l->group != s->group)
                        return "has another multicast group";
                if (p->local && l->local != p->local)
                        return "sends from another address";
        }
        if (l->master && l->master != p->bridge)
                return "is enslaved to another bridge";
        return NULL;
}

static void put_vxlan_data(struct nlmsghdr *nlh, const NetworkSpec *s, const Plan *p) {
        mnl_attr_put_u32(nlh, IFLA_VXLAN_ID, s->vni);
        mnl_attr_put_u16(nlh, IFLA_VXLAN_PORT, htons(s->port));
        if (p->local)
                mnl_attr_put_u32(nlh, IFLA_VXLAN_LOCAL, htonl(p->local));
        if (s->group)
                mnl_attr_put_u32(nlh, IFLA_VXLAN_GROUP, htonl(s->group));
        if (p->uplink)
                mnl_attr_put_u32(nlh, IFLA_VXLAN_LINK, (uint32_t) p->uplink);
        mnl_attr_put_u8(nlh, IFLA_VXLAN_LEARNING, 1);
}

/* Creates the link (index 0) or sets an existing one: master, MTU, up. */
static int link_put(const NetworkSpec *s, const Plan *p, int index) {
        char buf[MNL_SOCKET_BUFFER_SIZE];
        struct nlmsghdr *nlh;
        struct ifinfomsg *ifi;

        nlh = link_msg(buf, RTM_NEWLINK, NLM_F_ACK | (index ? 0 : NLM_F_CREATE | NLM_F_EXCL), index);
        ifi = mnl_nlmsg_get_payload(nlh);
        ifi->ifi_flags = IFF_UP;
        ifi->ifi_change = IFF_UP;
        mnl_attr_put_u32(nlh, IFLA_MASTER, (uint32_t) p->bridge);
        mnl_attr_put_u32(nlh, IFLA_MTU, s->mtu);
        if (!index) {
                struct nlattr *info, *data;

                mnl_attr_put_strz(nlh, IFLA_IFNAME, p->name);
                if (s->segment == SEGMENT_VLAN)
                        mnl_attr_put_u32(nlh, IFLA_LINK, (uint32_t) p->uplink);
                info = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
                mnl_attr_put_strz(nlh, IFLA_INFO_KIND, s->segment == SEGMENT_VLAN ? "vlan" : "vxlan");
                data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
                if (s->segment == SEGMENT_VLAN)
                        mnl_attr_put_u16(nlh, IFLA_VLAN_ID, (uint16_t) s->vlan_id);
                else
                        put_vxlan_data(nlh, s, p);
                mnl_attr_nest_end(nlh, data);
                mnl_attr_nest_end(nlh, info);
        }
        return rtnl_request(nlh, NULL, NULL);
}

/* The default forwarding entry to one peer: unknown destinations and
 * broadcasts go to every peer (head-end replication). */
static int fdb_append(int index, uint32_t peer) {
        char buf[MNL_SOCKET_BUFFER_SIZE];
        struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
        static const uint8_t any[6] = {};
        struct ndmsg *nd;
        int r;

        nlh->nlmsg_type = RTM_NEWNEIGH;
        nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_APPEND;
        nd = mnl_nlmsg_put_extra_header(nlh, sizeof *nd);
        nd->ndm_family = AF_BRIDGE;
        nd->ndm_ifindex = index;
        nd->ndm_state = NUD_NOARP | NUD_PERMANENT;
        nd->ndm_flags = NTF_SELF;
        mnl_attr_put(nlh, NDA_LLADDR, sizeof any, any);
        mnl_attr_put_u32(nlh, NDA_DST, htonl(peer));
        r = rtnl_request(nlh, NULL, NULL);
        return r == -EEXIST ? 0 : r;
}

static int link_delete(int index) {
        char buf[MNL_SOCKET_BUFFER_SIZE];

        return rtnl_request(link_msg(buf, RTM_DELLINK, NLM_F_ACK, index), NULL, NULL);
}

int link_segment_ensure(const char *bridge, const NetworkSpec *s, sd_bus_error *error) {
        const char *why;
        LinkInfo l;
        Plan p;
        bool created = false;
        int r;

        r = plan_segment(bridge, s, &p, error);
        if (r < 0)
                return r;
        r = link_get(p.name, &l);
        if (r >= 0) {
                why = link_mismatch(&l, s, &p);
                if (why)
                        return bus_error_setf(error, VDESK_ERROR_LINK_CONFLICT,
                                              "Link %s exists and %s: not network %s's segment; left as it is",
                                              p.name, why, s->name);
        } else if (r != -ENODEV)
                return bus_error_setf(error, SD_BUS_ERROR_FAILED, "Cannot read link %s: %s", p.name, strerror(-r));
        else
                l.index = 0;

        /* a link as it should be (each start of one of the network's
         * desktops asks again) is left untouched: no write, no link event */
        if (l.index && l.master == p.bridge && l.up && l.mtu == s->mtu)
                r = 0;
        else
                r = link_put(s, &p, l.index);
        if (r >= 0 && !l.index) {
                created = true;
                r = link_get(p.name, &l);
        }
        for (size_t i = 0; r >= 0 && s->segment == SEGMENT_VXLAN && i < p.n_remotes; i++)
                r = fdb_append(l.index, p.remotes[i]);
        if (r < 0) {
                /* what this call made goes again */
                if (created && l.index)
                        (void) link_delete(l.index);
                return bus_error_setf(error, SD_BUS_ERROR_FAILED, "Cannot set up link %s of network %s: %s", p.name,
                                      s->name, strerror(-r));
        }
        return created;
}

int link_segment_check(const NetworkSpec *s, sd_bus_error *error) {
        int index;

        return check_uplink(s, &index, error);
}

int link_segment_remove(const NetworkSpec *s, sd_bus_error *error) {
        char name[16];
        LinkInfo l;
        int r;

        if (network_segment_name(s, name) < 0)
                return 0;
        r = link_get(name, &l);
        if (r == -ENODEV)
                return 0;
        if (r < 0)
                return bus_error_setf(error, SD_BUS_ERROR_FAILED, "Cannot read link %s: %s", name, strerror(-r));
        if ((s->segment == SEGMENT_VLAN && (!streq(l.kind, "vlan") || l.vlan_id != s->vlan_id)) ||
            (s->segment == SEGMENT_VXLAN && (!streq(l.kind, "vxlan") || l.vni != s->vni)))
                return bus_error_setf(error, VDESK_ERROR_LINK_CONFLICT,
                                      "Link %s is not network %s's segment; left as it is", name, s->name);
        r = link_delete(l.index);
        if (r < 0 && r != -ENODEV)
                return bus_error_setf(error, SD_BUS_ERROR_FAILED, "Cannot remove link %s: %s", name, strerror(-r));
        return 1;
}

/* ---- links going away ---------------------------------------------------------- */

typedef struct LinkWatch {
        struct mnl_socket *nl;
        LinkGoneFunc gone;
        void *userdata;
} LinkWatch;

static int link_gone_attr(const struct nlattr *a, void *data) {
        if (mnl_attr_get_type(a) == IFLA_IFNAME && mnl_attr_validate(a, MNL_TYPE_NUL_STRING) >= 0)
                *(const char **) data = mnl_attr_get_str(a);
        return MNL_CB_OK;
}

static int link_gone_msg(const struct nlmsghdr *nlh, void *data) {
        LinkWatch *w = data;
        const char *name = NULL;

        if (nlh->nlmsg_type != RTM_DELLINK)
                return MNL_CB_OK;
        mnl_attr_parse(nlh, sizeof(struct ifinfomsg), link_gone_attr, &name);
        if (name)
                w->gone(name, w->userdata);
        return MNL_CB_OK;
}

static int on_link_event(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        LinkWatch *w = userdata;
        char buf[MNL_SOCKET_BUFFER_SIZE];
        ssize_t n;

        for (;;) {
                n = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
                if (n <= 0)
                        break;
                (void) mnl_cb_run(buf, (size_t) n, 0, 0, link_gone_msg, w);
        }
        return 0;
}

static void link_watch_free(void *userdata) {
        LinkWatch *w = userdata;

        mnl_socket_close(w->nl);
        free(w);
}

int link_watch_deleted(sd_event *e, LinkGoneFunc gone, void *userdata, sd_event_source **ret) {
        LinkWatch *w = calloc(1, sizeof *w);
        int r;

        if (!w)
                return -ENOMEM;
        w->gone = gone;
        w->userdata = userdata;
        w->nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (!w->nl) {
                free(w);
                return -errno;
        }
        if (mnl_socket_bind(w->nl, RTMGRP_LINK, MNL_SOCKET_AUTOPID) < 0) {
                r = -errno;
                link_watch_free(w);
                return r;
        }
        r = sd_event_add_io(e, ret, mnl_socket_get_fd(w->nl), EPOLLIN, on_link_event, w);
        if (r < 0) {
                link_watch_free(w);
                return r;
        }
        (void) sd_event_source_set_destroy_callback(*ret, link_watch_free);
        return 0;
}
