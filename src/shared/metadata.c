/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <stdarg.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlsave.h>

#include "disk-util.h"
#include "macro.h"
#include "metadata.h"
#include "util.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(xmlDocPtr, xmlFreeDoc);
DEFINE_TRIVIAL_CLEANUP_FUNC(xmlBufferPtr, xmlBufferFree);

static int fail(char **ret_error, const char *format, ...) _printf_(2, 3);
static int fail(char **ret_error, const char *format, ...) {
        va_list ap;

        if (ret_error) {
                va_start(ap, format);
                if (vasprintf(ret_error, format, ap) < 0)
                        *ret_error = NULL;
                va_end(ap);
        }
        return -EINVAL;
}

void desktop_meta_done(DesktopMeta *m) {
        free(m->name);
        free(m->uuid);
        free(m->account);
        free(m->disk_path);
        free(m->template_path);
        free(m->template_format);
        free(m->network);
        free(m->bridge);
        free(m->mac);
        free(m->segment);
        *m = (DesktopMeta) {};
}

int desktop_meta_present(const char *xml) {
        return strstr(xml, VDESK_METADATA_NS) != NULL;
}

static xmlNode *child(xmlNode *parent, const char *name, const char *ns) {
        for (xmlNode *n = parent ? parent->children : NULL; n; n = n->next) {
                if (n->type != XML_ELEMENT_NODE || !xmlStrEqual(n->name, BAD_CAST name))
                        continue;
                if (ns ? (n->ns && xmlStrEqual(n->ns->href, BAD_CAST ns)) : !n->ns)
                        return n;
        }
        return NULL;
}

/* Takes an element's text or attribute as a new string; -EINVAL if missing
 * or empty. */
static int take_text(xmlNode *n, char **ret) {
        xmlChar *t = n ? xmlNodeGetContent(n) : NULL;
        int r = 0;

        if (!t || !*t)
                r = -EINVAL;
        else if (!(*ret = strdup((const char *) t)))
                r = -ENOMEM;
        xmlFree(t);
        return r;
}

static int take_attr(xmlNode *n, const char *name, char **ret) {
        xmlChar *t = n ? xmlGetProp(n, BAD_CAST name) : NULL;
        int r = 0;

        if (!t || !*t)
                r = -EINVAL;
        else if (!(*ret = strdup((const char *) t)))
                r = -ENOMEM;
        xmlFree(t);
        return r;
}

static int parse_port(const char *s, uint16_t *ret) {
        char *end;
        unsigned long v;

        if (isempty(s) || s[0] < '0' || s[0] > '9')
                return -EINVAL;
        errno = 0;
        v = strtoul(s, &end, 10);
        if (errno || *end || v == 0 || v > 65535)
                return -EINVAL;
        *ret = (uint16_t) v;
        return 0;
}

static int parse_u32(const char *s, uint32_t *ret) {
        unsigned long v;
        char *end;

        if (isempty(s) || s[0] < '0' || s[0] > '9')
                return -EINVAL;
        errno = 0;
        v = strtoul(s, &end, 10);
        if (errno || *end || v > UINT32_MAX)
                return -EINVAL;
        *ret = (uint32_t) v;
        return 0;
}

/* An attribute that may be empty (""): an address, 0 when empty. */
static int attr_address(xmlNode *n, const char *name, uint32_t *ret) {
        _cleanup_(freep) char *v = NULL;
        int r = take_attr(n, name, &v);

        if (r == -EINVAL) {
                *ret = 0;
                return 0;
        }
        if (r < 0)
                return r;
        return ipv4_parse(v, ret);
}

static int attr_u32(xmlNode *n, const char *name, uint32_t *ret) {
        _cleanup_(freep) char *v = NULL;
        int r = take_attr(n, name, &v);

        return r < 0 ? r : parse_u32(v, ret);
}

/* <vdesk:segment>: a department network as the catalog has it. */
static int parse_segment(xmlNode *n, NetworkSpec **ret, char **ret_error) {
        _cleanup_(freep) NetworkSpec *s = new0(NetworkSpec, 1);
        _cleanup_(freep) char *name = NULL, *type = NULL, *subnet = NULL, *range = NULL, *uplink = NULL;
        uint32_t v = 0;
        char *dash;
        int r;

        if (!s)
                return -ENOMEM;
        if (take_attr(n, "name", &name) < 0 || strlen(name) >= sizeof s->name)
                return fail(ret_error, "metadata: <vdesk:segment name=> missing or too long");
        strcpy(s->name, name);
        if (take_attr(n, "type", &type) < 0 || (s->segment = segment_type_from_string(type)) < 0)
                return fail(ret_error, "metadata: <vdesk:segment type=> is not none, vlan or vxlan");
        if (take_attr(n, "subnet", &subnet) < 0 || ipv4_cidr_parse(subnet, &s->subnet, &s->prefix) < 0)
                return fail(ret_error, "metadata: <vdesk:segment subnet=> is not a subnet");
        if (attr_address(n, "gateway", &s->gateway) < 0 || !s->gateway)
                return fail(ret_error, "metadata: <vdesk:segment gateway=> is not an address");
        if (take_attr(n, "range", &range) < 0 || !(dash = strchr(range, '-')))
                return fail(ret_error, "metadata: <vdesk:segment range=> is not FIRST-LAST");
        *dash = 0;
        if (ipv4_parse(range, &s->range_start) < 0 || ipv4_parse(dash + 1, &s->range_end) < 0)
                return fail(ret_error, "metadata: <vdesk:segment range=> is not FIRST-LAST");
        if (attr_u32(n, "vlan", &s->vlan_id) < 0 || attr_u32(n, "vni", &s->vni) < 0 ||
            attr_u32(n, "mtu", &s->mtu) < 0 || attr_u32(n, "port", &v) < 0 || v > 65535)
                return fail(ret_error, "metadata: <vdesk:segment> vlan, vni, port or mtu is not a number");
        s->port = (uint16_t) v;
        r = take_attr(n, "uplink", &uplink);
        if (r == -ENOMEM)
                return r;
        if (r >= 0) {
                if (strlen(uplink) >= sizeof s->uplink)
                        return fail(ret_error, "metadata: <vdesk:segment uplink=> is too long");
                strcpy(s->uplink, uplink);
        }
        if (attr_address(n, "local", &s->local) < 0 || attr_address(n, "group", &s->group) < 0)
                return fail(ret_error, "metadata: <vdesk:segment> local or group is not an address");
        for (xmlNode *p = n->children; p; p = p->next) {
                if (p->type != XML_ELEMENT_NODE || !xmlStrEqual(p->name, BAD_CAST "peer"))
                        continue;
                if (s->n_peers >= NETWORK_MAX_PEERS ||
                    attr_address(p, "address", &s->peers[s->n_peers]) < 0 || !s->peers[s->n_peers])
                        return fail(ret_error, "metadata: a <vdesk:peer address=> is not an address");
                s->n_peers++;
        }
        *ret = TAKE_PTR(s);
        return 0;
}

/* A disk's <backingStore>, where the domain names one, is what QEMU opens
 * under the overlay instead of what the overlay's header says: it must be
 * the metadata's template, in the metadata's format. */
static int check_backing_store(xmlNode *disk, const DesktopMeta *m, char **ret_error) {
        xmlNode *bs = child(disk, "backingStore", NULL);
        _cleanup_(freep) char *file = NULL, *format = NULL;
        int r;

        if (!bs)
                return 0;
        if ((r = take_attr(child(bs, "source", NULL), "file", &file)) == -ENOMEM)
                return r;
        if ((r = take_attr(child(bs, "format", NULL), "type", &format)) == -ENOMEM)
                return r;
        if (!streq_ptr(file, m->template_path))
                return fail(ret_error, "metadata: the disk's backing store '%s' is not the template '%s'",
                            strempty(file), m->template_path);
        if (!streq_ptr(format, m->template_format))
                return fail(ret_error, "metadata: the disk's backing store format '%s' is not the template's ('%s')",
                            strempty(format), strempty(m->template_format));
        return 0;
}

/* No entity expansion, no network: the XML comes from libvirt, but an
 * admin may have edited it. */
static int read_domain_xml(const char *xml, xmlDocPtr *ret_doc, char **ret_error) {
        _cleanup_(xmlFreeDocp) xmlDocPtr doc = NULL;
        xmlNode *root;

        doc = xmlReadMemory(xml, (int) strlen(xml), "domain.xml", NULL,
                            XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
        if (!doc)
                return fail(ret_error, "domain XML is not well-formed");
        root = xmlDocGetRootElement(doc);
        if (!root || !xmlStrEqual(root->name, BAD_CAST "domain"))
                return fail(ret_error, "domain XML has no <domain> root");
        *ret_doc = TAKE_PTR(doc);
        return 0;
}

/* The domain's <name> and <uuid>, and <vdesk:account>: absent on a
 * desktop of a category's pool, which belongs to nobody yet; present, it
 * names somebody. */
static int parse_names(xmlNode *root, xmlNode *desk, DesktopMeta *m, char **ret_error) {
        xmlNode *account;
        int r;

        r = take_text(child(root, "name", NULL), &m->name);
        if (r < 0)
                return r == -ENOMEM ? r : fail(ret_error, "domain has no <name>");
        (void) take_text(child(root, "uuid", NULL), &m->uuid);

        account = child(desk, "account", VDESK_METADATA_NS);
        if (!account)
                return 0;
        r = take_text(account, &m->account);
        if (r < 0)
                return r == -ENOMEM ? r : fail(ret_error, "metadata: <vdesk:account> is empty");
        return 0;
}

/* <vdesk:disk path= template= template-format=> */
static int parse_disk(xmlNode *n, DesktopMeta *m, char **ret_error) {
        int r;

        if (!n)
                return fail(ret_error, "metadata: <vdesk:disk> missing");
        if ((r = take_attr(n, "path", &m->disk_path)) < 0)
                return r == -ENOMEM ? r : fail(ret_error, "metadata: <vdesk:disk path=> missing or empty");
        if ((r = take_attr(n, "template", &m->template_path)) < 0)
                return r == -ENOMEM ? r : fail(ret_error, "metadata: <vdesk:disk template=> missing or empty");
        /* optional: metadata written before it was has none */
        if ((r = take_attr(n, "template-format", &m->template_format)) == -ENOMEM)
                return r;
        return 0;
}

/* <vdesk:network name= bridge= mac= address=> */
static int parse_network(xmlNode *n, DesktopMeta *m, char **ret_error) {
        _cleanup_(freep) char *addr = NULL;
        int r;

        if (!n)
                return fail(ret_error, "metadata: <vdesk:network> missing");
        if ((r = take_attr(n, "name", &m->network)) < 0)
                return r == -ENOMEM ? r : fail(ret_error, "metadata: <vdesk:network name=> missing or empty");
        if ((r = take_attr(n, "bridge", &m->bridge)) < 0)
                return r == -ENOMEM ? r : fail(ret_error, "metadata: <vdesk:network bridge=> missing or empty");
        if ((r = take_attr(n, "mac", &m->mac)) < 0)
                return r == -ENOMEM ? r : fail(ret_error, "metadata: <vdesk:network mac=> missing or empty");
        if ((r = take_attr(n, "address", &addr)) < 0)
                return r == -ENOMEM ? r : fail(ret_error, "metadata: <vdesk:network address=> missing or empty");
        if (ipv4_parse(addr, &m->address) < 0)
                return fail(ret_error, "metadata: <vdesk:network address='%s'> is not an IPv4 address", addr);
        return 0;
}

/* <vdesk:rdp port= guest-port=> */
static int parse_rdp(xmlNode *n, DesktopMeta *m, char **ret_error) {
        _cleanup_(freep) char *port = NULL, *gport = NULL;
        int r;

        if (!n)
                return fail(ret_error, "metadata: <vdesk:rdp> missing");
        if ((r = take_attr(n, "port", &port)) < 0 || parse_port(port, &m->rdp_port) < 0)
                return r == -ENOMEM ? r : fail(ret_error, "metadata: <vdesk:rdp port=> missing or not a port number");
        if ((r = take_attr(n, "guest-port", &gport)) < 0 || parse_port(gport, &m->guest_port) < 0)
                return r == -ENOMEM ? r : fail(ret_error, "metadata: <vdesk:rdp guest-port=> missing or not a port number");
        return 0;
}

/* The metadata must describe the disk the domain really boots from:
 * otherwise it could have imaged create one file and QEMU open another. */
static int check_boot_disk(xmlNode *root, const DesktopMeta *m, char **ret_error) {
        xmlNode *devices = child(root, "devices", NULL), *disk = NULL;

        for (xmlNode *d = devices ? devices->children : NULL; d && !disk; d = d->next) {
                xmlChar *file;

                if (d->type != XML_ELEMENT_NODE || !xmlStrEqual(d->name, BAD_CAST "disk"))
                        continue;
                file = xmlGetProp(child(d, "source", NULL), BAD_CAST "file");
                if (file && streq((const char *) file, m->disk_path))
                        disk = d;
                xmlFree(file);
        }
        if (!disk)
                return fail(ret_error, "metadata: disk '%s' is not a disk of the domain", m->disk_path);
        return check_backing_store(disk, m, ret_error);
}

int desktop_meta_parse_domain(const char *xml, DesktopMeta *ret, char **ret_error) {
        _cleanup_(xmlFreeDocp) xmlDocPtr doc = NULL;
        _cleanup_(desktop_meta_done) DesktopMeta m = {};
        xmlNode *root, *desk, *n;
        int r;

        if (!desktop_meta_present(xml))
                return -ENODATA;
        r = read_domain_xml(xml, &doc, ret_error);
        if (r < 0)
                return r;
        root = xmlDocGetRootElement(doc);
        desk = child(child(root, "metadata", NULL), "desktop", VDESK_METADATA_NS);
        if (!desk)
                return -ENODATA;

        r = parse_names(root, desk, &m, ret_error);
        if (r < 0)
                return r;
        r = parse_disk(child(desk, "disk", VDESK_METADATA_NS), &m, ret_error);
        if (r < 0)
                return r;
        r = parse_network(child(desk, "network", VDESK_METADATA_NS), &m, ret_error);
        if (r < 0)
                return r;
        n = child(desk, "segment", VDESK_METADATA_NS);
        if (n) {
                r = parse_segment(n, &m.segment, ret_error);
                if (r < 0)
                        return r;
        }
        r = parse_rdp(child(desk, "rdp", VDESK_METADATA_NS), &m, ret_error);
        if (r < 0)
                return r;
        r = check_boot_disk(root, &m, ret_error);
        if (r < 0)
                return r;

        *ret = m;
        m = (DesktopMeta) {};
        return 0;
}

int desktop_meta_validate(const DesktopMeta *m, const VdeskConfig *c, char **ret_error) {
        _cleanup_(freep) char *why_port = NULL;
        const char *why;
        char mac[18];

        if ((why = name_invalid_reason(m->name)))
                return fail(ret_error, "desktop name %s", why);
        if (m->account && (why = name_invalid_reason(m->account)))
                return fail(ret_error, "metadata: account %s", why);
        if ((why = name_invalid_reason(m->network)))
                return fail(ret_error, "metadata: network name %s", why);
        if (!path_is_normalized_absolute(m->disk_path) || !path_startswith_dir(m->disk_path, c->disk_dir) ||
            strchr(m->disk_path + strlen(c->disk_dir) + 1, '/'))
                return fail(ret_error, "metadata: disk path '%s' is not a file directly in %s", m->disk_path, c->disk_dir);
        if (!path_is_normalized_absolute(m->template_path) || !path_startswith_dir(m->template_path, c->template_dir))
                return fail(ret_error, "metadata: template '%s' is not inside %s", m->template_path, c->template_dir);
        if (m->template_format && disk_format_from_string(m->template_format) < 0)
                return fail(ret_error, "metadata: template-format '%s' is neither raw nor qcow2", m->template_format);
        if (config_rdp_port_check(c, m->rdp_port, &why_port) < 0)
                return why_port ? fail(ret_error, "metadata: rdp port %s", why_port) : -ENOMEM;
        if (strlen(m->bridge) > 15 || name_invalid_reason(m->bridge))
                return fail(ret_error, "metadata: bridge '%s' is not a valid interface name", m->bridge);
        mac_from_ipv4(m->address, mac);
        if (strcasecmp(mac, m->mac) != 0)
                return fail(ret_error, "metadata: mac '%s' is not the one derived from the address (%s)", m->mac, mac);
        if (m->segment) {
                _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
                NetworkSpec s = *m->segment;

                if (network_spec_check(&s, &e) < 0)
                        return fail(ret_error, "metadata: segment: %s", e.message);
                if (m->address < s.range_start || m->address > s.range_end)
                        return fail(ret_error, "metadata: address is outside the range of network %s", s.name);
        }
        return 0;
}

/* <vdesk:segment>: a department network as the catalog has it, under
 * desk. */
static void format_segment(xmlNode *desk, xmlNs *ns, const NetworkSpec *s) {
        char subnet[24], gw[16], lo[16], hi[16], range[40], num[16], a[16];
        xmlNode *n;

        n = xmlNewChild(desk, ns, BAD_CAST "segment", NULL);
        xmlNewProp(n, BAD_CAST "name", BAD_CAST s->name);
        xmlNewProp(n, BAD_CAST "type", BAD_CAST segment_type_to_string(s->segment));
        ipv4_format(s->subnet, a);
        snprintf(subnet, sizeof subnet, "%s/%u", a, s->prefix);
        xmlNewProp(n, BAD_CAST "subnet", BAD_CAST subnet);
        ipv4_format(s->gateway, gw);
        xmlNewProp(n, BAD_CAST "gateway", BAD_CAST gw);
        ipv4_format(s->range_start, lo);
        ipv4_format(s->range_end, hi);
        snprintf(range, sizeof range, "%s-%s", lo, hi);
        xmlNewProp(n, BAD_CAST "range", BAD_CAST range);
        snprintf(num, sizeof num, "%u", s->vlan_id);
        xmlNewProp(n, BAD_CAST "vlan", BAD_CAST num);
        xmlNewProp(n, BAD_CAST "uplink", BAD_CAST s->uplink);
        snprintf(num, sizeof num, "%u", s->vni);
        xmlNewProp(n, BAD_CAST "vni", BAD_CAST num);
        if (s->local)
                ipv4_format(s->local, a);
        xmlNewProp(n, BAD_CAST "local", BAD_CAST (s->local ? a : ""));
        if (s->group)
                ipv4_format(s->group, a);
        xmlNewProp(n, BAD_CAST "group", BAD_CAST (s->group ? a : ""));
        snprintf(num, sizeof num, "%u", s->port);
        xmlNewProp(n, BAD_CAST "port", BAD_CAST num);
        snprintf(num, sizeof num, "%u", s->mtu);
        xmlNewProp(n, BAD_CAST "mtu", BAD_CAST num);
        for (size_t i = 0; i < s->n_peers; i++) {
                ipv4_format(s->peers[i], a);
                xmlNewProp(xmlNewChild(n, ns, BAD_CAST "peer", NULL), BAD_CAST "address", BAD_CAST a);
        }
}

/* The element and what is under it, as text, without an XML declaration. */
static int format_element(xmlNode *e, char **ret) {
        _cleanup_(xmlBufferFreep) xmlBufferPtr buf = NULL;
        xmlSaveCtxtPtr save;
        char *s;

        buf = xmlBufferCreate();
        if (!buf)
                return -ENOMEM;
        save = xmlSaveToBuffer(buf, "UTF-8", XML_SAVE_NO_DECL | XML_SAVE_FORMAT);
        xmlSaveTree(save, e);
        xmlSaveClose(save);

        s = strdup((const char *) xmlBufferContent(buf));
        if (!s)
                return -ENOMEM;
        *ret = s;
        return 0;
}

/* prefix NULL: in the default namespace */
static int meta_format(const DesktopMeta *m, const char *prefix, char **ret) {
        _cleanup_(xmlFreeDocp) xmlDocPtr doc = NULL;
        xmlNode *desk, *n;
        xmlNs *ns;
        char addr[16], port[8], gport[8];

        ipv4_format(m->address, addr);
        snprintf(port, sizeof port, "%u", m->rdp_port);
        snprintf(gport, sizeof gport, "%u", m->guest_port);

        doc = xmlNewDoc(BAD_CAST "1.0");
        if (!doc)
                return -ENOMEM;
        desk = xmlNewNode(NULL, BAD_CAST "desktop");
        ns = xmlNewNs(desk, BAD_CAST VDESK_METADATA_NS, BAD_CAST prefix);
        xmlSetNs(desk, ns);
        xmlDocSetRootElement(doc, desk);

        /* xmlNewTextChild escapes the text; attributes are escaped on save. */
        if (m->account)
                xmlNewTextChild(desk, ns, BAD_CAST "account", BAD_CAST m->account);
        n = xmlNewChild(desk, ns, BAD_CAST "disk", NULL);
        xmlNewProp(n, BAD_CAST "path", BAD_CAST m->disk_path);
        xmlNewProp(n, BAD_CAST "template", BAD_CAST m->template_path);
        if (m->template_format)
                xmlNewProp(n, BAD_CAST "template-format", BAD_CAST m->template_format);
        n = xmlNewChild(desk, ns, BAD_CAST "network", NULL);
        xmlNewProp(n, BAD_CAST "name", BAD_CAST m->network);
        xmlNewProp(n, BAD_CAST "bridge", BAD_CAST m->bridge);
        xmlNewProp(n, BAD_CAST "address", BAD_CAST addr);
        xmlNewProp(n, BAD_CAST "mac", BAD_CAST m->mac);
        if (m->segment)
                format_segment(desk, ns, m->segment);
        n = xmlNewChild(desk, ns, BAD_CAST "rdp", NULL);
        xmlNewProp(n, BAD_CAST "port", BAD_CAST port);
        xmlNewProp(n, BAD_CAST "guest-port", BAD_CAST gport);

        return format_element(desk, ret);
}

int desktop_meta_format(const DesktopMeta *m, char **ret) {
        return meta_format(m, VDESK_METADATA_PREFIX, ret);
}

int desktop_meta_format_unprefixed(const DesktopMeta *m, char **ret) {
        return meta_format(m, NULL, ret);
}
