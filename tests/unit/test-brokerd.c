/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* brokerd's pure parts: allocation, the .rdp renderer, the libvirt XML
 * builders (a built domain must be what the hook accepts), and the
 * migration splitter of the database layer. */

#include "allocate.h"
#include "bus-error.h"
#include "conf.h"
#include "db.h"
#include "desktop.h"
#include "domain-xml.h"
#include "host.h"
#include "idle.h"
#include "macro.h"
#include "metadata.h"
#include "rdp.h"
#include "tests.h"
#include "util.h"

static void test_allocate(void) {
        const uint32_t used[] = { 10, 11, 13 };
        uint32_t v = 0;

        CHECK_INT(allocate_lowest_free(NULL, 0, 10, 20, 0, &v), 0);
        CHECK_INT(v, 10);
        CHECK_INT(allocate_lowest_free(used, 3, 10, 20, 0, &v), 0);
        CHECK_INT(v, 12);
        CHECK_INT(allocate_lowest_free(used, 3, 10, 20, 12, &v), 0);
        CHECK_INT(v, 14);                               /* the gateway is skipped */
        CHECK_INT(allocate_lowest_free(used, 2, 10, 11, 0, &v), -ENOSPC);
        CHECK_INT(allocate_lowest_free(used, 3, 10, 13, 12, &v), -ENOSPC);
        CHECK_INT(allocate_lowest_free(NULL, 0, 65535, 65535, 0, &v), 0);
        CHECK_INT(v, 65535);                            /* no wrap at the top */
}

/* The host's desktop network's range as [Network] gives it, and when its
 * free list is made anew: another range or another gateway. */
static void test_address_range(void) {
        _cleanup_(config_done) VdeskConfig c = {};
        AddressRange r = {}, o;
        char s[16];

        CHECK_INT(config_defaults(&c), 0);
        CHECK_INT(address_range_from_config(&c, &r), 0);
        ipv4_format(r.first, s);
        CHECK_STR(s, "10.20.0.10");
        ipv4_format(r.last, s);
        CHECK_STR(s, "10.20.3.250");
        ipv4_format(r.gateway, s);
        CHECK_STR(s, "10.20.0.1");
        CHECK_INT(r.last - r.first + 1, 1009);

        /* never filled (the migration's 0s) */
        o = (AddressRange) {};
        CHECK_INT(address_range_equal(&o, &r), false);
        o = r;
        CHECK_INT(address_range_equal(&o, &r), true);
        o.last--;
        CHECK_INT(address_range_equal(&o, &r), false);
        o = r;
        o.first++;
        CHECK_INT(address_range_equal(&o, &r), false);
        o = r;
        o.gateway++;
        CHECK_INT(address_range_equal(&o, &r), false);

        /* a value that is no address: refused, r untouched */
        o = r;
        free(c.range_end);
        c.range_end = strdup("10.20.3.256");
        CHECK_INT(c.range_end != NULL, true);
        CHECK_INT(address_range_from_config(&c, &r), -EINVAL);
        CHECK_INT(address_range_equal(&o, &r), true);
}

/* A desktop's MAC is its address: what the DHCP entry and the domain say. */
static void test_mac_allocate(void) {
        uint32_t a = 0, b = 0;
        char mac[18], mac2[18];

        CHECK_INT(ipv4_parse("10.20.0.15", &a), 0);
        desktop_mac_allocate(a, mac);
        CHECK_STR(mac, "52:54:0a:14:00:0f");
        CHECK_INT(ipv4_parse("192.168.150.254", &b), 0);
        desktop_mac_allocate(b, mac2);
        CHECK_STR(mac2, "52:54:c0:a8:96:fe");
}

static void test_rdp(void) {
        _cleanup_(freep) char *file = NULL, *cmd = NULL, *file2 = NULL, *cmd2 = NULL;
        RdpTarget t = {
                .host = "192.0.2.7", .port = 50001, .username = "alice", .desktop = "alice-1",
                .printers = true, .drives = true, .clipboard = true,
        };

        CHECK_INT(rdp_file_render(&t, &file), 0);
        CHECK_STR(file,
                  "full address:s:192.0.2.7:50001\r\n"
                  "username:s:alice\r\n"
                  "prompt for credentials:i:1\r\n"
                  "authentication level:i:2\r\n"
                  "screen mode id:i:2\r\n"
                  "redirectprinters:i:1\r\n"
                  "redirectclipboard:i:1\r\n"
                  "redirectdrives:i:1\r\n"
                  "drivestoredirect:s:*\r\n"
                  "usbdevicestoredirect:s:\r\n"
                  "redirectsmartcards:i:0\r\n"
                  "audiomode:i:0\r\n");
        CHECK_INT(rdp_freerdp_command(&t, &cmd), 0);
        CHECK_STR(cmd, "xfreerdp /v:192.0.2.7:50001 /u:alice /t:alice-1 +clipboard /drive:home,~ /printer");

        t.printers = t.drives = t.clipboard = false;
        CHECK_INT(rdp_file_render(&t, &file2), 0);
        CHECK(strstr(file2, "redirectprinters:i:0\r\n"));
        CHECK(strstr(file2, "redirectdrives:i:0\r\ndrivestoredirect:s:\r\n"));
        CHECK(strstr(file2, "redirectclipboard:i:0\r\n"));
        CHECK_INT(rdp_freerdp_command(&t, &cmd2), 0);
        CHECK_STR(cmd2, "xfreerdp /v:192.0.2.7:50001 /u:alice /t:alice-1 -clipboard");

        /* a category that lets USB devices through */
        {
                _cleanup_(freep) char *file3 = NULL, *cmd3 = NULL;

                t.usb = true;
                CHECK_INT(rdp_file_render(&t, &file3), 0);
                CHECK(file3 && strstr(file3, "usbdevicestoredirect:s:*\r\n"));
                CHECK_INT(rdp_freerdp_command(&t, &cmd3), 0);
                CHECK_STR(cmd3, "xfreerdp /v:192.0.2.7:50001 /u:alice /t:alice-1 -clipboard /usb:auto");
        }
}

static void test_domain_xml(void) {
        _cleanup_(config_done) VdeskConfig c = {};
        _cleanup_(freep) char *xml = NULL, *err = NULL;
        _cleanup_(desktop_meta_done) DesktopMeta back = {};
        char mac[18];
        uint32_t a;
        DesktopMeta meta;
        DomainSpec spec;

        CHECK_INT(config_defaults(&c), 0);
        CHECK_INT(ipv4_parse("10.20.0.15", &a), 0);
        mac_from_ipv4(a, mac);
        meta = (DesktopMeta) {
                .name = (char *) "alice-1",
                .uuid = (char *) "0b6c2a2e-6a43-4d2c-8a4e-0d5b6b2f3c11",
                .account = (char *) "alice",
                .disk_path = (char *) "/var/lib/vdesk/disks/alice-1.qcow2",
                .template_path = (char *) "/var/lib/vdesk/templates/office & co.img",
                .template_format = (char *) "raw",
                .network = (char *) "vdesk",
                .bridge = (char *) "vdeskbr0",
                .mac = mac,
                .address = a,
                .rdp_port = 50001,
                .guest_port = 3389,
        };
        spec = (DomainSpec) { .meta = &meta, .memory_mib = 2048, .vcpus = 2, .kvm = false,
                              .console_log = "/var/log/vdesk/console/alice-1.log" };
        CHECK_INT(domain_xml_build(&spec, &xml), 0);
        CHECK(strstr(xml, "<domain type=\"qemu\">"));
        CHECK(strstr(xml, "<memory unit=\"MiB\">2048</memory>"));
        CHECK(strstr(xml, "<vcpu>2</vcpu>"));
        CHECK(strstr(xml, "<source file=\"/var/lib/vdesk/disks/alice-1.qcow2\"/>"));
        CHECK(strstr(xml, "<mac address=\"52:54:0a:14:00:0f\"/>"));
        CHECK(strstr(xml, "<source network=\"vdesk\"/>"));
        CHECK(strstr(xml, "<boot dev=\"hd\"/>"));
        CHECK(strstr(xml, "template=\"/var/lib/vdesk/templates/office &amp; co.img\""));   /* escaped */
        CHECK(strstr(xml, "template-format=\"raw\""));
        /* the whole chain named, with the formats vdesk recorded: libvirt
         * and QEMU read no format from a file, nor a backing file */
        CHECK(strstr(xml, "<driver name=\"qemu\" type=\"qcow2\" discard=\"unmap\"/>\n"
                          "      <source file=\"/var/lib/vdesk/disks/alice-1.qcow2\"/>\n"
                          "      <backingStore type=\"file\">\n"
                          "        <format type=\"raw\"/>\n"
                          "        <source file=\"/var/lib/vdesk/templates/office &amp; co.img\"/>\n"
                          "        <backingStore/>\n"
                          "      </backingStore>\n"));

        /* What brokerd defines is what the hook reads back. */
        CHECK_INT(desktop_meta_parse_domain(xml, &back, &err), 0);
        CHECK_STR(back.name, "alice-1");
        CHECK_STR(back.uuid, "0b6c2a2e-6a43-4d2c-8a4e-0d5b6b2f3c11");
        CHECK_STR(back.account, "alice");
        CHECK_STR(back.template_path, "/var/lib/vdesk/templates/office & co.img");
        CHECK_STR(back.template_format, "raw");
        CHECK_INT(back.address, a);
        CHECK_INT(back.rdp_port, 50001);
        CHECK_INT(back.guest_port, 3389);
        CHECK_INT(desktop_meta_validate(&back, &c, &err), 0);

        spec.kvm = true;
        free(xml);
        xml = NULL;
        CHECK_INT(domain_xml_build(&spec, &xml), 0);
        CHECK(strstr(xml, "<domain type=\"kvm\">"));

        /* no format recorded: no domain */
        {
                _cleanup_(freep) char *x = NULL;

                meta.template_format = NULL;
                CHECK_INT(domain_xml_build(&spec, &x), -EINVAL);
                meta.template_format = (char *) "raw";
        }

        /* re-issue: the metadata and the disk's backing store are replaced,
         * nothing else changes */
        {
                _cleanup_(freep) char *xml2 = NULL, *err2 = NULL;
                _cleanup_(desktop_meta_done) DesktopMeta back2 = {};

                meta.template_path = (char *) "/var/lib/vdesk/templates/office/2.qcow2";
                meta.template_format = (char *) "qcow2";
                CHECK_INT(domain_xml_set_meta(xml, &meta, &xml2), 0);
                CHECK_INT(desktop_meta_parse_domain(xml2, &back2, &err2), 0);
                CHECK_STR(back2.template_path, "/var/lib/vdesk/templates/office/2.qcow2");
                CHECK_STR(back2.template_format, "qcow2");
                /* the parse holds the backing store to the metadata */
                CHECK(strstr(xml2, "<format type=\"qcow2\"/>"));
                CHECK(strstr(xml2, "<format type=\"raw\"/>") == NULL);   /* one backing store, not two */
                CHECK_STR(back2.account, "alice");
                CHECK(strstr(xml2, "<domain type=\"kvm\">"));
                CHECK(strstr(xml2, "<mac address=\"52:54:0a:14:00:0f\"/>"));
                /* one vdesk element, not two */
                CHECK(strstr(xml2, "office &amp; co.img") == NULL);
                CHECK_INT(domain_xml_set_meta("<domain><name>x</name></domain>", &meta, &xml2), -ENODATA);
        }
}

static void test_console_xml(void) {
        _cleanup_(freep) char *xml = NULL, *gxml = NULL, *listen = NULL;
        unsigned port = 0;
        ConsoleDomainSpec s = {
                .name = "build@win",
                .title = "vdesk template build",
                .disk_path = "/var/lib/vdesk/templates/win/1.qcow2",
                .disk_format = "qcow2",
                .iso_path = "/var/lib/vdesk/isos/win & more.iso",
                .network = "vdesk",
                .memory_mib = 4096,
                .vcpus = 2,
                .listen = "10.0.0.5",
                .password = "abcdefgh",
                .console_log = "/var/log/vdesk/console/build@win.log",
        };

        CHECK_INT(console_domain_xml_build(&s, &xml), 0);
        CHECK(strstr(xml, "<name>build@win</name>"));
        /* the disk first: an empty one does not boot, the ISO does */
        CHECK(strstr(xml, "<boot dev=\"hd\"/>") && strstr(xml, "<boot dev=\"cdrom\"/>") &&
              strstr(xml, "<boot dev=\"hd\"/>") < strstr(xml, "<boot dev=\"cdrom\"/>"));
        CHECK(strstr(xml, "<source file=\"/var/lib/vdesk/isos/win &amp; more.iso\"/>"));
        CHECK(strstr(xml, "<target dev=\"hdc\" bus=\"ide\"/>\n      <readonly/>"));
        /* SPICE unusable until a ticket: an unknown password, expired */
        CHECK(strstr(xml, "<graphics type=\"spice\" autoport=\"yes\" passwd=\"abcdefgh\" "
                          "passwdValidTo=\"1970-01-01T00:00:01\" connected=\"keep\">"));
        CHECK(strstr(xml, "<listen type=\"address\" address=\"10.0.0.5\"/>"));
        CHECK(strstr(xml, "<log file=\"/var/log/vdesk/console/build@win.log\" append=\"off\"/>"));
        CHECK(!strstr(xml, "<metadata>"));         /* no desktop: the hook leaves it alone */
        free(xml);
        xml = NULL;
        s.iso_path = NULL;
        CHECK_INT(console_domain_xml_build(&s, &xml), 0);
        CHECK(!strstr(xml, "cdrom"));
        /* a build's disk is whole by itself */
        CHECK(strstr(xml, "<source file=\"/var/lib/vdesk/templates/win/1.qcow2\"/>\n      <backingStore/>"));
        free(xml);
        xml = NULL;
        /* an edit's overlay names its base and the base's recorded format */
        s.disk_path = "/var/lib/vdesk/templates/win/edit.qcow2";
        s.backing_path = "/var/lib/vdesk/templates/win/1.raw";
        s.backing_format = "raw";
        CHECK_INT(console_domain_xml_build(&s, &xml), 0);
        CHECK(strstr(xml, "<source file=\"/var/lib/vdesk/templates/win/edit.qcow2\"/>\n"
                          "      <backingStore type=\"file\">\n"
                          "        <format type=\"raw\"/>\n"
                          "        <source file=\"/var/lib/vdesk/templates/win/1.raw\"/>\n"
                          "        <backingStore/>\n"
                          "      </backingStore>"));

        /* a ticket: the live <graphics> with the new password and expiry */
        CHECK_INT(spice_ticket_xml_build(
                "<domain><devices><graphics type='vnc' port='5901'/>"
                "<graphics type='spice' port='5900' autoport='yes' listen='10.0.0.5' connected='keep'>"
                "<listen type='address' address='10.0.0.5'/></graphics></devices></domain>",
                "k3y5ecr3", 1700000000, &gxml, &port, &listen), 0);
        CHECK_INT(port, 5900);
        CHECK_STR(listen, "10.0.0.5");
        CHECK(strstr(gxml, "passwd=\"k3y5ecr3\""));
        CHECK(strstr(gxml, "passwdValidTo=\"2023-11-14T22:13:20\""));
        CHECK(strstr(gxml, "type=\"spice\" port=\"5900\""));
        /* not running yet (port -1), or no SPICE at all */
        CHECK_INT(spice_ticket_xml_build("<domain><devices><graphics type='spice' port='-1' listen='a'/></devices></domain>",
                                         "x", 1, &gxml, &port, &listen), -ENOENT);
        CHECK_INT(spice_ticket_xml_build("<domain><devices/></domain>", "x", 1, &gxml, &port, &listen), -ENOENT);
        CHECK_INT(spice_ticket_xml_build("not xml", "x", 1, &gxml, &port, &listen), -EINVAL);
}

static void test_network_xml(void) {
        _cleanup_(config_done) VdeskConfig c = {};
        _cleanup_(freep) char *xml = NULL, *host = NULL, *dept = NULL;

        CHECK_INT(config_defaults(&c), 0);
        CHECK_INT(network_xml_build(&(LibvirtNetwork) { .name = c.network_name, .bridge = c.bridge,
                                                        .gateway = c.gateway, .prefix = c.prefix }, &xml), 0);
        CHECK(!strstr(xml, "<mtu"));
        /* a department network's: its bridge, gateway and MTU */
        CHECK_INT(network_xml_build(&(LibvirtNetwork) { .name = "vdesk-sales", .bridge = "vdbr7",
                                                        .gateway = "10.30.0.1", .prefix = 24, .mtu = 1450 }, &dept), 0);
        CHECK(strstr(dept, "<name>vdesk-sales</name>"));
        CHECK(strstr(dept, "<bridge name=\"vdbr7\" stp=\"off\" delay=\"0\"/>"));
        CHECK(strstr(dept, "<mtu size=\"1450\"/>"));
        CHECK(strstr(dept, "<ip address=\"10.30.0.1\" prefix=\"24\">"));
        CHECK(strstr(dept, "<dhcp/>"));
        {
                _cleanup_(freep) char *full = NULL;
                DhcpHost h[2] = { { "52:54:0a:1e:00:0a", 0x0a1e000a }, { "52:54:0a:1e:00:0b", 0x0a1e000b } };

                /* the network's entries are in its definition */
                CHECK_INT(network_xml_build(&(LibvirtNetwork) { .name = "vdesk-sales", .bridge = "vdbr7",
                                                                .gateway = "10.30.0.1", .prefix = 24, .hosts = h,
                                                                .n_hosts = 2 }, &full), 0);
                CHECK(strstr(full, "<host mac=\"52:54:0a:1e:00:0a\" ip=\"10.30.0.10\"/>"));
                CHECK(strstr(full, "<host mac=\"52:54:0a:1e:00:0b\" ip=\"10.30.0.11\"/>"));
        }
        CHECK(strstr(xml, "<forward mode=\"open\"/>"));
        CHECK(strstr(xml, "<bridge name=\"vdeskbr0\" stp=\"off\" delay=\"0\"/>"));
        CHECK(strstr(xml, "<ip address=\"10.20.0.1\" prefix=\"22\">"));
        CHECK(strstr(xml, "<dnsmasq:option value=\"no-ping\"/>"));
        CHECK(!strstr(xml, "<range"));          /* only registered MACs get addresses */

        CHECK_INT(dhcp_host_xml_build("52:54:0a:14:00:0f", "10.20.0.15", &host), 0);
        CHECK_STR(host, "<host mac=\"52:54:0a:14:00:0f\" ip=\"10.20.0.15\"/>\n");
}

static void test_split(void) {
        _cleanup_(strv_freep) char **l = NULL, **bad = NULL;

        CHECK_INT(db_split_statements("-- header\n"
                                      "CREATE TABLE a (\n"
                                      "  x INT -- not a comment line\n"
                                      ");\n"
                                      "\n"
                                      "  INSERT INTO a VALUES (1);  \n", &l), 0);
        CHECK(l && l[0] && l[1] && !l[2]);
        if (l && l[0] && l[1]) {
                CHECK_STR(l[0], "CREATE TABLE a (\nx INT -- not a comment line\n)");
                CHECK_STR(l[1], "INSERT INTO a VALUES (1)");
        }
        CHECK_INT(db_split_statements("SELECT 1", &bad), -EINVAL);
}

static void test_config_desktop(void) {
        _cleanup_(config_done) VdeskConfig c = {};
        _cleanup_(freep) char *err = NULL, *err2 = NULL, *err3 = NULL;

        CHECK_INT(config_defaults(&c), 0);
        CHECK(c.redirect_printers && c.redirect_drives && c.redirect_clipboard);
        CHECK_STR(c.accelerator, "auto");
        CHECK_INT(config_parse_text(&c, "[Desktop]\nRedirectDrives=no\nAccelerator=tcg\n", "t.conf", &err), 0);
        CHECK(!c.redirect_drives);
        CHECK_STR(c.accelerator, "tcg");
        CHECK_INT(config_parse_text(&c, "[Desktop]\nRedirectDrives=maybe\n", "t.conf", &err2), -EINVAL);
        CHECK_STR(err2, "t.conf:2: invalid value for [Desktop] RedirectDrives: 'maybe'");
        CHECK_INT(config_parse_text(&c, "[Desktop]\nAccelerator=xen\n", "t.conf", NULL), 0);
        CHECK_INT(config_verify(&c, &err3), -EINVAL);
        CHECK_STR(err3, "[Desktop] Accelerator=xen is not one of auto, kvm, tcg");
}

/* Placement over hosts whose figures are fresh (no libvirt call): the
 * lowest score wins; down, maintenance, short of memory and other
 * clusters' hosts are skipped, each named in the reason. */
static void test_desktop_host_pick(void) {
        _cleanup_(sd_event_unrefp) sd_event *e = NULL;
        Manager m = {};
        Host h[5] = {};
        static const char *const names[] = { "a", "b", "c", "d", "e" };
        _cleanup_(freep) char *reason = NULL;
        _cleanup_(sd_bus_error_free) sd_bus_error err = SD_BUS_ERROR_NULL;
        Host *pick = NULL;
        uint64_t now = 0;

        CHECK_INT(sd_event_new(&e), 0);
        CHECK(sd_event_now(e, CLOCK_MONOTONIC, &now) >= 0);
        m.event = e;
        m.config.host_sample_sec = 3600;
        for (size_t i = 0; i < ELEMENTSOF(h); i++) {
                h[i] = (Host) { .manager = &m, .id = i + 1, .cluster_id = 1, .up = true,
                                .load = { .valid = true, .sampled_usec = now, .node.memory_kib = 16 << 20,
                                          .free_kib = 8 << 20 } };
                snprintf(h[i].name, sizeof h[i].name, "%s", names[i]);
                if (i + 1 < ELEMENTSOF(h))
                        h[i].next = &h[i + 1];
        }
        m.hosts = &h[0];
        h[0].load.score = 0.50;                 /* a: up, but the busiest */
        h[1].load.score = 0.10;                 /* b: least loaded, but down */
        h[1].up = false;
        h[2].load.score = 0.20;                 /* c: in maintenance */
        h[2].maintenance = true;
        h[3].load.score = 0.30;                 /* d: the one */
        h[3].load.cpu = 0.05;
        h[4].load.score = 0.01;                 /* e: another cluster's */
        h[4].cluster_id = 2;

        CHECK_INT(desktop_host_pick(&m, 1, 1024, &pick, &reason, &err), 0);
        CHECK(pick == &h[3]);
        CHECK(reason && strstr(reason, "b: down") && strstr(reason, "c: maintenance") &&
              strstr(reason, "a: score 0.500") && strstr(reason, "d: score 0.300 (memory 0.250 + 1.0 x CPU 0.050") &&
              !strstr(reason, "e:"));
        reason = mfree(reason);

        /* a tie: the first by name, not by the list's order (the first
         * host listed, renamed z, ties with d) */
        h[0].load.score = 0.30;
        snprintf(h[0].name, sizeof h[0].name, "z");
        CHECK_INT(desktop_host_pick(&m, 1, 1024, &pick, NULL, &err), 0);
        CHECK(pick == &h[3]);
        snprintf(h[0].name, sizeof h[0].name, "a");
        CHECK_INT(desktop_host_pick(&m, 1, 1024, &pick, NULL, &err), 0);
        CHECK(pick == &h[0]);
        h[0].load.score = 0.50;

        /* d short of memory: a, though busier */
        h[3].load.free_kib = 512 << 10;
        CHECK_INT(desktop_host_pick(&m, 1, 1024, &pick, &reason, &err), 0);
        CHECK(pick == &h[0]);
        CHECK(reason && strstr(reason, "d: 512 MiB free, 1024 MiB needed"));
        reason = mfree(reason);

        /* a down too: none left, named */
        h[0].up = false;
        CHECK(desktop_host_pick(&m, 1, 1024, &pick, &reason, &err) < 0);
        CHECK(sd_bus_error_has_name(&err, VDESK_ERROR_NO_HOST_AVAILABLE));
        CHECK(err.message && strstr(err.message, "a: down"));
        sd_bus_error_free(&err);

        /* a cluster without hosts */
        CHECK(desktop_host_pick(&m, 7, 1024, &pick, &reason, &err) < 0);
        CHECK(sd_bus_error_has_name(&err, VDESK_ERROR_NO_HOST_AVAILABLE));
        CHECK(err.message && strstr(err.message, "the cluster has no hosts"));
}

static void test_host_refused_uri(void) {
        static const char *const uri = "qemu+ssh://10.0.0.7/system?command=/tmp/x";
        Manager m = {};
        Host *h = NULL;
        Virt *v = NULL;

        /* a row written before the check: a host without a connection, down */
        CHECK_INT(host_new(&m, 7, "evil", uri, 1, 0, false, true, &h), 0);
        CHECK(h && !h->virt && !h->up);
        CHECK(h && strstr(h->reason, "URI refused: has the query parameter 'command'"));
        CHECK(h && streq(host_state_name(h), "down"));
        host_free(h);
        /* and where every connection is made, refused before anything */
        CHECK_INT(virt_new(NULL, uri, 0, &(VirtCallbacks) {}, NULL, &v), -EINVAL);
        CHECK(!v);
}

/* Idle time counts from the latest of the start, the last check that saw a
 * connection and the broker's start; due after the minutes, never for 0. */
static void test_idle(void) {
        const uint64_t s = USEC_PER_SEC, t0 = 1700000000 * s;

        CHECK(idle_since(t0, 0, t0 - 100 * s) == t0);
        CHECK(idle_since(t0, t0 + 30 * s, t0) == t0 + 30 * s);
        CHECK(idle_since(t0, 0, t0 + 50 * s) == t0 + 50 * s);
        CHECK(!idle_due(t0, t0 + 59 * s, 1));
        CHECK(idle_due(t0, t0 + 60 * s, 1));
        CHECK(!idle_due(t0, t0 + 600 * s, 0));
        /* a clock set back before the start: not due */
        CHECK(!idle_due(t0, t0 - 120 * s, 1));
}

int main(void) {
        test_allocate();
        test_address_range();
        test_mac_allocate();
        test_desktop_host_pick();
        test_host_refused_uri();
        test_rdp();
        test_domain_xml();
        test_console_xml();
        test_network_xml();
        test_split();
        test_config_desktop();
        test_idle();
        return test_summary();
}
