/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include "conf.h"
#include "macro.h"
#include "metadata.h"
#include "tests.h"
#include "util.h"

#define NS "https://vdesk.org/xmlns/desktop/1"

static const char good[] =
        "<domain type='qemu'>\n"
        "  <name>alice-desk</name>\n"
        "  <uuid>8c3e1f46-6a4e-4c2e-9f43-7d1b2a9c0b11</uuid>\n"
        "  <metadata>\n"
        "    <other:thing xmlns:other='https://example.org/x'>ignored</other:thing>\n"
        "    <vdesk:desktop xmlns:vdesk='" NS "'>\n"
        "      <vdesk:account>alice</vdesk:account>\n"
        "      <vdesk:disk path='/var/lib/vdesk/disks/alice-desk.qcow2' template='/var/lib/vdesk/templates/demo.img'"
        " template-format='raw'/>\n"
        "      <vdesk:network name='vdesk' bridge='vdeskbr0' address='10.20.0.15' mac='52:54:0a:14:00:0f'/>\n"
        "      <vdesk:rdp port='50001' guest-port='3389'/>\n"
        "    </vdesk:desktop>\n"
        "  </metadata>\n"
        "  <devices>\n"
        "    <disk type='file' device='disk'><driver name='qemu' type='qcow2'/>"
        "<source file='/var/lib/vdesk/disks/alice-desk.qcow2'/>"
        "<backingStore type='file'><format type='raw'/><source file='/var/lib/vdesk/templates/demo.img'/>"
        "<backingStore/></backingStore></disk>\n"
        "  </devices>\n"
        "</domain>\n";

/* good with one substring replaced */
static char *mutate(const char *from, const char *to) {
        const char *p = strstr(good, from);
        char *s;

        if (!p)
                return NULL;
        if (asprintf(&s, "%.*s%s%s", (int) (p - good), good, to, p + strlen(from)) < 0)
                return NULL;
        return s;
}

static void test_good(void) {
        _cleanup_(desktop_meta_done) DesktopMeta m = {};
        _cleanup_(config_done) VdeskConfig c = {};
        _cleanup_(freep) char *err = NULL;

        CHECK_INT(desktop_meta_parse_domain(good, &m, &err), 0);
        CHECK_STR(m.name, "alice-desk");
        CHECK_STR(m.uuid, "8c3e1f46-6a4e-4c2e-9f43-7d1b2a9c0b11");
        CHECK_STR(m.account, "alice");
        CHECK_STR(m.disk_path, "/var/lib/vdesk/disks/alice-desk.qcow2");
        CHECK_STR(m.template_path, "/var/lib/vdesk/templates/demo.img");
        CHECK_STR(m.template_format, "raw");
        CHECK_STR(m.network, "vdesk");
        CHECK_STR(m.bridge, "vdeskbr0");
        CHECK_STR(m.mac, "52:54:0a:14:00:0f");
        CHECK_INT(m.address, 0x0a14000f);
        CHECK_INT(m.rdp_port, 50001);
        CHECK_INT(m.guest_port, 3389);

        config_defaults(&c);
        CHECK_INT(desktop_meta_validate(&m, &c, &err), 0);
}

static void test_not_a_desktop(void) {
        DesktopMeta m = {};

        CHECK_INT(desktop_meta_parse_domain("<domain><name>x</name></domain>", &m, NULL), -ENODATA);
        CHECK(!desktop_meta_present("<domain><name>x</name></domain>"));
        /* the namespace mentioned elsewhere, but no element */
        CHECK_INT(desktop_meta_parse_domain("<domain><name>x</name><description>" NS "</description></domain>",
                                            &m, NULL), -ENODATA);
}

static void test_malformed(void) {
        static const struct {
                const char *from, *to, *error;
        } cases[] = {
                { "</domain>", "", "domain XML is not well-formed" },
                { "<vdesk:account>alice</vdesk:account>", "<vdesk:account></vdesk:account>",
                  "metadata: <vdesk:account> is empty" },
                { " template='/var/lib/vdesk/templates/demo.img'", "",
                  "metadata: <vdesk:disk template=> missing or empty" },
                { "address='10.20.0.15'", "address='10.20.0.300'",
                  "metadata: <vdesk:network address='10.20.0.300'> is not an IPv4 address" },
                { "port='50001'", "port='0'", "metadata: <vdesk:rdp port=> missing or not a port number" },
                { "port='50001'", "port='65536'", "metadata: <vdesk:rdp port=> missing or not a port number" },
                { "port='50001'", "port='5e4'", "metadata: <vdesk:rdp port=> missing or not a port number" },
                { "guest-port='3389'", "", "metadata: <vdesk:rdp guest-port=> missing or not a port number" },
                { "<vdesk:rdp port='50001' guest-port='3389'/>", "", "metadata: <vdesk:rdp> missing" },
                { "<source file='/var/lib/vdesk/disks/alice-desk.qcow2'/>", "<source file='/var/lib/vdesk/disks/other.qcow2'/>",
                  "metadata: disk '/var/lib/vdesk/disks/alice-desk.qcow2' is not a disk of the domain" },
                { "<name>alice-desk</name>", "", "domain has no <name>" },
                /* the chain QEMU opens is the one the metadata names */
                { "<source file='/var/lib/vdesk/templates/demo.img'/>", "<source file='/etc/shadow'/>",
                  "metadata: the disk's backing store '/etc/shadow' is not the template '/var/lib/vdesk/templates/demo.img'" },
                { "<source file='/var/lib/vdesk/templates/demo.img'/>", "",
                  "metadata: the disk's backing store '' is not the template '/var/lib/vdesk/templates/demo.img'" },
                { "<format type='raw'/>", "<format type='qcow2'/>",
                  "metadata: the disk's backing store format 'qcow2' is not the template's ('raw')" },
                { "<format type='raw'/>", "",
                  "metadata: the disk's backing store format '' is not the template's ('raw')" },
                { " template-format='raw'", "",
                  "metadata: the disk's backing store format 'raw' is not the template's ('')" },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_(freep) char *xml = mutate(cases[i].from, cases[i].to), *err = NULL;
                DesktopMeta m = {};

                CHECK(xml != NULL);
                CHECK_INT(desktop_meta_parse_domain(xml, &m, &err), -EINVAL);
                CHECK_STR(err, cases[i].error);
        }
}

static void test_entities_not_expanded(void) {
        /* An external entity must not be fetched or expanded into a field. */
        static const char xxe[] =
                "<?xml version='1.0'?>\n"
                "<!DOCTYPE domain [ <!ENTITY x SYSTEM 'file:///etc/passwd'> ]>\n"
                "<domain><name>d</name><metadata><vdesk:desktop xmlns:vdesk='" NS "'>"
                "<vdesk:account>&x;</vdesk:account></vdesk:desktop></metadata></domain>";
        _cleanup_(freep) char *err = NULL;
        DesktopMeta m = {};

        CHECK_INT(desktop_meta_parse_domain(xxe, &m, &err), -EINVAL);
        CHECK_STR(err, "metadata: <vdesk:account> is empty");
}

/* A desktop of a category's pool names no account until it is handed
 * over; what is written back again names none either. */
static void test_pooled(void) {
        _cleanup_(freep) char *xml = mutate("<vdesk:account>alice</vdesk:account>", ""), *err = NULL, *frag = NULL;
        _cleanup_(desktop_meta_done) DesktopMeta m = {};
        _cleanup_(config_done) VdeskConfig c = {};

        CHECK(xml != NULL);
        CHECK_INT(desktop_meta_parse_domain(xml, &m, &err), 0);
        CHECK(m.account == NULL);
        config_defaults(&c);
        CHECK_INT(desktop_meta_validate(&m, &c, &err), 0);
        CHECK_INT(desktop_meta_format(&m, &frag), 0);
        CHECK(frag && !strstr(frag, "account"));
}

/* What a hand-over gives virDomainSetMetadata: the element in the default
 * namespace, which reads back as the prefixed one does. */
static void test_unprefixed(void) {
        _cleanup_(desktop_meta_done) DesktopMeta m = {}, back = {};
        _cleanup_(freep) char *frag = NULL, *xml = NULL, *err = NULL;
        const char *start = strstr(good, "    <vdesk:desktop"), *end = strstr(good, "  </metadata>");

        CHECK_INT(desktop_meta_parse_domain(good, &m, &err), 0);
        CHECK_INT(desktop_meta_format_unprefixed(&m, &frag), 0);
        CHECK(frag && startswith(frag, "<desktop xmlns=\"" NS "\">") && !strstr(frag, "vdesk:"));
        CHECK(start && end);
        CHECK(asprintf(&xml, "%.*s%s\n%s", (int) (start - good), good, frag, end) > 0);
        CHECK_INT(desktop_meta_parse_domain(xml, &back, &err), 0);
        CHECK_STR(back.account, "alice");
        CHECK_STR(back.disk_path, m.disk_path);
        CHECK_INT(back.rdp_port, 50001);
}

static void test_validate(void) {
        static const struct {
                const char *from, *to, *error;
        } cases[] = {
                { "path='/var/lib/vdesk/disks/alice-desk.qcow2'", "path='/etc/shadow'",
                  "metadata: disk path '/etc/shadow' is not a file directly in /var/lib/vdesk/disks" },
                { "path='/var/lib/vdesk/disks/alice-desk.qcow2'", "path='/var/lib/vdesk/disks/../../../etc/shadow'",
                  "metadata: disk path '/var/lib/vdesk/disks/../../../etc/shadow' is not a file directly in /var/lib/vdesk/disks" },
                { "template='/var/lib/vdesk/templates/demo.img'", "template='/var/lib/vdesk/disks/x.qcow2'",
                  "metadata: template '/var/lib/vdesk/disks/x.qcow2' is not inside /var/lib/vdesk/templates" },
                { "port='50001'", "port='22'",
                  "metadata: rdp port 22 is outside the forward range 50000-59999 ([Forward] PortMin=, PortMax=)" },
                { "<vdesk:account>alice</vdesk:account>", "<vdesk:account>al ice</vdesk:account>",
                  "metadata: account may hold only ASCII letters, digits, '.', '_' and '-'" },
                { "bridge='vdeskbr0'", "bridge='br0;reboot'",
                  "metadata: bridge 'br0;reboot' is not a valid interface name" },
                { "mac='52:54:0a:14:00:0f'", "mac='52:54:0a:14:00:10'",
                  "metadata: mac '52:54:0a:14:00:10' is not the one derived from the address (52:54:0a:14:00:0f)" },
                { "<name>alice-desk</name>", "<name>alice desk</name>",
                  "desktop name may hold only ASCII letters, digits, '.', '_' and '-'" },
        };
        _cleanup_(config_done) VdeskConfig c = {};

        config_defaults(&c);
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_(freep) char *xml = mutate(cases[i].from, cases[i].to), *err = NULL;
                _cleanup_(desktop_meta_done) DesktopMeta m = {};
                int r;

                CHECK(xml != NULL);
                /* the disk source follows the metadata in the path cases */
                if (xml && strstr(cases[i].to, "path=")) {
                        char *x2;
                        const char *p = strstr(cases[i].to, "'") + 1;
                        char newpath[256];
                        snprintf(newpath, sizeof newpath, "<source file='%.*s'/>", (int) (strchr(p, '\'') - p), p);
                        {
                                const char *s = strstr(xml, "<source file=");
                                const char *e = strstr(s, "/>") + 2;
                                CHECK(asprintf(&x2, "%.*s%s%s", (int) (s - xml), xml, newpath, e) > 0);
                        }
                        free(xml);
                        xml = x2;
                }
                /* and the disk's backing store follows the template */
                if (xml && strstr(cases[i].to, "template=")) {
                        const char *p = strstr(cases[i].to, "'") + 1;
                        const char *s = strstr(xml, "<source file='/var/lib/vdesk/templates/demo.img'/>");
                        char *x2;

                        CHECK(s != NULL);
                        CHECK(asprintf(&x2, "%.*s<source file='%.*s'/>%s", (int) (s - xml), xml,
                                       (int) (strchr(p, '\'') - p), p, strstr(s, "/>") + 2) > 0);
                        free(xml);
                        xml = x2;
                }
                r = desktop_meta_parse_domain(xml, &m, &err);
                CHECK_INT(r, 0);
                if (r == 0) {
                        CHECK_INT(desktop_meta_validate(&m, &c, &err), -EINVAL);
                        CHECK_STR(err, cases[i].error);
                }
        }
}

/* good as a domain defined before vdesk recorded template formats: the
 * template-format attribute replaced by attr, no backing store in the
 * disk. */
static char *old_domain(const char *attr) {
        _cleanup_(freep) char *xml = mutate(" template-format='raw'", attr);
        const char *src, *tail;
        char *s;

        if (!xml)
                return NULL;
        src = strstr(xml, "<source file='/var/lib/vdesk/disks/");
        tail = strstr(xml, "</disk>");
        if (asprintf(&s, "%.*s<source file='/var/lib/vdesk/disks/alice-desk.qcow2'/>%s", (int) (src - xml), xml,
                     tail) < 0)
                return NULL;
        return s;
}

/* Metadata written before vdesk recorded template formats parses, with no
 * format (the hook then makes no disk for it); a format vdesk does not
 * know is refused. */
static void test_template_format(void) {
        _cleanup_(config_done) VdeskConfig c = {};
        _cleanup_(freep) char *old = old_domain(""), *vmdk = old_domain(" template-format='vmdk'"), *err = NULL;
        _cleanup_(desktop_meta_done) DesktopMeta m = {}, m2 = {};

        config_defaults(&c);
        CHECK(old && vmdk);
        CHECK(!strstr(old, "backingStore") && !strstr(old, "template-format"));
        CHECK_INT(desktop_meta_parse_domain(old, &m, &err), 0);
        CHECK(m.template_format == NULL);
        CHECK_INT(desktop_meta_validate(&m, &c, &err), 0);
        CHECK_INT(desktop_meta_parse_domain(vmdk, &m2, &err), 0);
        CHECK_INT(desktop_meta_validate(&m2, &c, &err), -EINVAL);
        CHECK_STR(err, "metadata: template-format 'vmdk' is neither raw nor qcow2");
}

static void test_roundtrip(void) {
        _cleanup_(desktop_meta_done) DesktopMeta m = {}, back = {};
        _cleanup_(freep) char *meta = NULL, *xml = NULL, *err = NULL;

        CHECK_INT(desktop_meta_parse_domain(good, &m, NULL), 0);
        /* characters that need escaping survive */
        free(m.account);
        m.account = strdup("a<&>'\"b");
        CHECK_INT(desktop_meta_format(&m, &meta), 0);
        CHECK(strstr(meta, "xmlns:vdesk=\"" NS "\"") != NULL);
        CHECK(asprintf(&xml, "<domain><name>alice-desk</name><metadata>%s</metadata><devices><disk>"
                             "<source file='/var/lib/vdesk/disks/alice-desk.qcow2'/></disk></devices></domain>",
                       meta) > 0);
        CHECK_INT(desktop_meta_parse_domain(xml, &back, &err), 0);
        CHECK_STR(back.account, "a<&>'\"b");
        CHECK_STR(back.template_path, m.template_path);
        CHECK_STR(back.template_format, "raw");
        CHECK_STR(back.mac, m.mac);
        CHECK_INT(back.address, m.address);
        CHECK_INT(back.rdp_port, m.rdp_port);
        CHECK_INT(back.guest_port, m.guest_port);
}

/* A desktop of a department network carries the network: written, read
 * back the same, checked as the catalog checks it. */
static void test_segment(void) {
        _cleanup_(desktop_meta_done) DesktopMeta m = {}, back = {};
        _cleanup_(config_done) VdeskConfig c = {};
        _cleanup_(freep) char *meta = NULL, *xml = NULL, *err = NULL, *err2 = NULL, *err3 = NULL;
        NetworkSpec *s;

        CHECK_INT(desktop_meta_parse_domain(good, &m, NULL), 0);
        CHECK(m.segment == NULL);
        s = m.segment = new0(NetworkSpec, 1);
        snprintf(s->name, sizeof s->name, "sales");
        s->segment = SEGMENT_VXLAN;
        CHECK_INT(ipv4_cidr_parse("10.20.0.0/24", &s->subnet, &s->prefix), 0);
        CHECK_INT(ipv4_parse("10.20.0.1", &s->gateway), 0);
        CHECK_INT(ipv4_parse("10.20.0.10", &s->range_start), 0);
        CHECK_INT(ipv4_parse("10.20.0.250", &s->range_end), 0);
        s->vni = 3001;
        s->port = 4789;
        s->mtu = 1450;
        CHECK_INT(ipv4_parse("192.0.2.1", &s->peers[0]), 0);
        CHECK_INT(ipv4_parse("192.0.2.2", &s->peers[1]), 0);
        s->n_peers = 2;
        CHECK_INT(desktop_meta_format(&m, &meta), 0);
        CHECK(asprintf(&xml, "<domain><name>alice-desk</name><metadata>%s</metadata><devices><disk>"
                             "<source file='/var/lib/vdesk/disks/alice-desk.qcow2'/></disk></devices></domain>",
                       meta) > 0);
        CHECK_INT(desktop_meta_parse_domain(xml, &back, &err), 0);
        CHECK(back.segment != NULL);
        if (!back.segment)
                return;
        CHECK_STR(back.segment->name, "sales");
        CHECK_INT(back.segment->segment, SEGMENT_VXLAN);
        CHECK_INT(back.segment->subnet, s->subnet);
        CHECK_INT(back.segment->prefix, 24);
        CHECK_INT(back.segment->gateway, s->gateway);
        CHECK_INT(back.segment->range_start, s->range_start);
        CHECK_INT(back.segment->range_end, s->range_end);
        CHECK_INT(back.segment->vni, 3001);
        CHECK_INT(back.segment->port, 4789);
        CHECK_INT(back.segment->mtu, 1450);
        CHECK_INT(back.segment->n_peers, 2);
        CHECK_INT(back.segment->peers[1], s->peers[1]);
        CHECK_INT(back.segment->local, 0);
        CHECK_STR(back.segment->uplink, "");

        CHECK_INT(config_defaults(&c), 0);
        free(c.disk_dir);
        c.disk_dir = strdup("/var/lib/vdesk/disks");
        free(c.template_dir);
        c.template_dir = strdup("/var/lib/vdesk/templates");
        c.port_min = 50000;
        c.port_max = 50100;
        CHECK_INT(desktop_meta_validate(&back, &c, &err2), 0);
        back.segment->vni = 0;
        CHECK_INT(desktop_meta_validate(&back, &c, &err3), -EINVAL);
        CHECK(err3 && strstr(err3, "metadata: segment: Invalid vni: 0 is not within 1-16777215"));
        back.segment->vni = 3001;
        back.address = s->range_end + 1;
        {
                char mac[18];

                mac_from_ipv4(back.address, mac);
                free(back.mac);
                back.mac = strdup(mac);
        }
        free(err3);
        err3 = NULL;
        CHECK_INT(desktop_meta_validate(&back, &c, &err3), -EINVAL);
        CHECK(err3 && strstr(err3, "address is outside the range of network sales"));
}

/* The port range's one rule, at its edges, as the metadata and netd's
 * forwards meet it. */
static void test_rdp_port(void) {
        _cleanup_(config_done) VdeskConfig c = {};
        static const struct {
                unsigned port;
                int r;
        } cases[] = {
                { 50099, -EINVAL },     /* one below PortMin= */
                { 50100, 0 },           /* PortMin= */
                { 50101, 0 },
                { 50199, 0 },
                { 50200, 0 },           /* PortMax= */
                { 50201, -EINVAL },     /* one above */
                { 0, -EINVAL },
                { 65536, -EINVAL },     /* not cut to 16 bits */
        };

        CHECK_INT(config_defaults(&c), 0);
        c.port_min = 50100;
        c.port_max = 50200;
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_(freep) char *err = NULL;

                CHECK_INT(config_rdp_port_check(&c, cases[i].port, &err), cases[i].r);
                if (cases[i].r == 0)
                        CHECK(!err);
        }
        {
                _cleanup_(freep) char *err = NULL;

                CHECK_INT(config_rdp_port_check(&c, 50201, &err), -EINVAL);
                CHECK_STR(err, "50201 is outside the forward range 50100-50200 ([Forward] PortMin=, PortMax=)");
        }
        CHECK_INT(config_rdp_port_check(&c, 50099, NULL), -EINVAL);
        /* a range of one port */
        c.port_max = 50100;
        CHECK_INT(config_rdp_port_check(&c, 50100, NULL), 0);
        CHECK_INT(config_rdp_port_check(&c, 50101, NULL), -EINVAL);
}

int main(void) {
        test_rdp_port();
        test_segment();
        test_good();
        test_not_a_desktop();
        test_malformed();
        test_entities_not_expanded();
        test_pooled();
        test_unprefixed();
        test_validate();
        test_template_format();
        test_roundtrip();
        return test_summary();
}
