/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <stdarg.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlsave.h>

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
        free(m->network);
        free(m->bridge);
        free(m->mac);
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

int desktop_meta_parse_domain(const char *xml, DesktopMeta *ret, char **ret_error) {
        _cleanup_(xmlFreeDocp) xmlDocPtr doc = NULL;
        _cleanup_(desktop_meta_done) DesktopMeta m = {};
        _cleanup_(freep) char *port = NULL, *gport = NULL, *addr = NULL;
        xmlNode *root, *meta, *desk, *n;
        int r;

        if (!desktop_meta_present(xml))
                return -ENODATA;

        /* No entity expansion, no network: the XML comes from libvirt, but
         * an admin may have edited it. */
        doc = xmlReadMemory(xml, (int) strlen(xml), "domain.xml", NULL,
                            XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
        if (!doc)
                return fail(ret_error, "domain XML is not well-formed");
        root = xmlDocGetRootElement(doc);
        if (!root || !xmlStrEqual(root->name, BAD_CAST "domain"))
                return fail(ret_error, "domain XML has no <domain> root");
        meta = child(root, "metadata", NULL);
        desk = child(meta, "desktop", VDESK_METADATA_NS);
        if (!desk)
                return -ENODATA;

        r = take_text(child(root, "name", NULL), &m.name);
        if (r < 0)
                return r == -ENOMEM ? r : fail(ret_error, "domain has no <name>");
        (void) take_text(child(root, "uuid", NULL), &m.uuid);

        r = take_text(child(desk, "account", VDESK_METADATA_NS), &m.account);
        if (r < 0)
                return r == -ENOMEM ? r : fail(ret_error, "metadata: <vdesk:account> missing or empty");

        n = child(desk, "disk", VDESK_METADATA_NS);
        if (!n)
                return fail(ret_error, "metadata: <vdesk:disk> missing");
        if ((r = take_attr(n, "path", &m.disk_path)) < 0)
                return r == -ENOMEM ? r : fail(ret_error, "metadata: <vdesk:disk path=> missing or empty");
        if ((r = take_attr(n, "template", &m.template_path)) < 0)
                return r == -ENOMEM ? r : fail(ret_error, "metadata: <vdesk:disk template=> missing or empty");

        n = child(desk, "network", VDESK_METADATA_NS);
        if (!n)
                return fail(ret_error, "metadata: <vdesk:network> missing");
        if ((r = take_attr(n, "name", &m.network)) < 0)
                return r == -ENOMEM ? r : fail(ret_error, "metadata: <vdesk:network name=> missing or empty");
        if ((r = take_attr(n, "bridge", &m.bridge)) < 0)
                return r == -ENOMEM ? r : fail(ret_error, "metadata: <vdesk:network bridge=> missing or empty");
        if ((r = take_attr(n, "mac", &m.mac)) < 0)
                return r == -ENOMEM ? r : fail(ret_error, "metadata: <vdesk:network mac=> missing or empty");
        if ((r = take_attr(n, "address", &addr)) < 0)
                return r == -ENOMEM ? r : fail(ret_error, "metadata: <vdesk:network address=> missing or empty");
        if (ipv4_parse(addr, &m.address) < 0)
                return fail(ret_error, "metadata: <vdesk:network address='%s'> is not an IPv4 address", addr);

        n = child(desk, "rdp", VDESK_METADATA_NS);
        if (!n)
                return fail(ret_error, "metadata: <vdesk:rdp> missing");
        if ((r = take_attr(n, "port", &port)) < 0 || parse_port(port, &m.rdp_port) < 0)
                return r == -ENOMEM ? r : fail(ret_error, "metadata: <vdesk:rdp port=> missing or not a port number");
        if ((r = take_attr(n, "guest-port", &gport)) < 0 || parse_port(gport, &m.guest_port) < 0)
                return r == -ENOMEM ? r : fail(ret_error, "metadata: <vdesk:rdp guest-port=> missing or not a port number");

        /* The metadata must describe the disk the domain really boots from:
         * otherwise it could have imaged create one file and QEMU open another. */
        {
                xmlNode *devices = child(root, "devices", NULL);
                bool found = false;

                for (xmlNode *d = devices ? devices->children : NULL; d && !found; d = d->next) {
                        xmlChar *file;

                        if (d->type != XML_ELEMENT_NODE || !xmlStrEqual(d->name, BAD_CAST "disk"))
                                continue;
                        file = xmlGetProp(child(d, "source", NULL), BAD_CAST "file");
                        found = file && streq((const char *) file, m.disk_path);
                        xmlFree(file);
                }
                if (!found)
                        return fail(ret_error, "metadata: disk '%s' is not a disk of the domain", m.disk_path);
        }

        *ret = m;
        m = (DesktopMeta) {};
        return 0;
}

int desktop_meta_validate(const DesktopMeta *m, const VdeskConfig *c, char **ret_error) {
        const char *why;
        char mac[18];

        if ((why = name_invalid_reason(m->name)))
                return fail(ret_error, "desktop name %s", why);
        if ((why = name_invalid_reason(m->account)))
                return fail(ret_error, "metadata: account %s", why);
        if ((why = name_invalid_reason(m->network)))
                return fail(ret_error, "metadata: network name %s", why);
        if (!path_is_normalized_absolute(m->disk_path) || !path_startswith_dir(m->disk_path, c->disk_dir) ||
            strchr(m->disk_path + strlen(c->disk_dir) + 1, '/'))
                return fail(ret_error, "metadata: disk path '%s' is not a file directly in %s", m->disk_path, c->disk_dir);
        if (!path_is_normalized_absolute(m->template_path) || !path_startswith_dir(m->template_path, c->template_dir))
                return fail(ret_error, "metadata: template '%s' is not inside %s", m->template_path, c->template_dir);
        if (m->rdp_port < c->port_min || m->rdp_port > c->port_max)
                return fail(ret_error, "metadata: rdp port %u is outside %u-%u", m->rdp_port, c->port_min, c->port_max);
        if (strlen(m->bridge) > 15 || name_invalid_reason(m->bridge))
                return fail(ret_error, "metadata: bridge '%s' is not a valid interface name", m->bridge);
        mac_from_ipv4(m->address, mac);
        if (strcasecmp(mac, m->mac) != 0)
                return fail(ret_error, "metadata: mac '%s' is not the one derived from the address (%s)", m->mac, mac);
        return 0;
}

int desktop_meta_format(const DesktopMeta *m, char **ret) {
        _cleanup_(xmlBufferFreep) xmlBufferPtr buf = NULL;
        xmlDocPtr doc;
        xmlNode *desk, *n;
        xmlNs *ns;
        char addr[16], port[8], gport[8];
        xmlSaveCtxtPtr save;

        ipv4_format(m->address, addr);
        snprintf(port, sizeof port, "%u", m->rdp_port);
        snprintf(gport, sizeof gport, "%u", m->guest_port);

        doc = xmlNewDoc(BAD_CAST "1.0");
        if (!doc)
                return -ENOMEM;
        desk = xmlNewNode(NULL, BAD_CAST "desktop");
        ns = xmlNewNs(desk, BAD_CAST VDESK_METADATA_NS, BAD_CAST VDESK_METADATA_PREFIX);
        xmlSetNs(desk, ns);
        xmlDocSetRootElement(doc, desk);

        /* xmlNewTextChild escapes the text; attributes are escaped on save. */
        xmlNewTextChild(desk, ns, BAD_CAST "account", BAD_CAST m->account);
        n = xmlNewChild(desk, ns, BAD_CAST "disk", NULL);
        xmlNewProp(n, BAD_CAST "path", BAD_CAST m->disk_path);
        xmlNewProp(n, BAD_CAST "template", BAD_CAST m->template_path);
        n = xmlNewChild(desk, ns, BAD_CAST "network", NULL);
        xmlNewProp(n, BAD_CAST "name", BAD_CAST m->network);
        xmlNewProp(n, BAD_CAST "bridge", BAD_CAST m->bridge);
        xmlNewProp(n, BAD_CAST "address", BAD_CAST addr);
        xmlNewProp(n, BAD_CAST "mac", BAD_CAST m->mac);
        n = xmlNewChild(desk, ns, BAD_CAST "rdp", NULL);
        xmlNewProp(n, BAD_CAST "port", BAD_CAST port);
        xmlNewProp(n, BAD_CAST "guest-port", BAD_CAST gport);

        buf = xmlBufferCreate();
        if (!buf) {
                xmlFreeDoc(doc);
                return -ENOMEM;
        }
        save = xmlSaveToBuffer(buf, "UTF-8", XML_SAVE_NO_DECL | XML_SAVE_FORMAT);
        xmlSaveTree(save, desk);
        xmlSaveClose(save);
        xmlFreeDoc(doc);

        *ret = strdup((const char *) xmlBufferContent(buf));
        return *ret ? 0 : -ENOMEM;
}
