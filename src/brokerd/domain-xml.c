/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlsave.h>
#include <time.h>

#include "domain-xml.h"
#include "macro.h"
#include "util.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(xmlDocPtr, xmlFreeDoc);

/* libvirt's and our own XML: no network, no messages on stderr. */
static xmlDocPtr parse(const char *xml, const char *name) {
        return xmlReadMemory(xml, (int) strlen(xml), name, NULL, XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
}

/* The first child element of parent called name, or NULL. */
static xmlNode *child(xmlNode *parent, const char *name) {
        for (xmlNode *n = parent ? parent->children : NULL; n; n = n->next)
                if (n->type == XML_ELEMENT_NODE && xmlStrEqual(n->name, BAD_CAST name))
                        return n;
        return NULL;
}

/* Appends the <vdesk:desktop> element of m to parent (a <metadata>). */
static int add_meta(xmlNode *parent, const DesktopMeta *m) {
        _cleanup_(freep) char *meta_xml = NULL;
        xmlDocPtr meta_doc;
        int r;

        r = desktop_meta_format(m, &meta_xml);
        if (r < 0)
                return r;
        meta_doc = parse(meta_xml, "metadata.xml");
        if (!meta_doc)
                return -EINVAL;
        xmlAddChild(parent, xmlDocCopyNode(xmlDocGetRootElement(meta_doc), parent->doc, 1));
        xmlFreeDoc(meta_doc);
        return 0;
}

static xmlNode *add(xmlNode *parent, const char *name, const char *text) {
        return xmlNewTextChild(parent, NULL, BAD_CAST name, text ? BAD_CAST text : NULL);
}

static void attr(xmlNode *n, const char *name, const char *value) {
        xmlNewProp(n, BAD_CAST name, BAD_CAST value);
}

static int doc_to_string(xmlDocPtr doc, char **ret) {
        xmlChar *mem = NULL;
        int size = 0;

        xmlDocDumpFormatMemoryEnc(doc, &mem, &size, "UTF-8", 1);
        if (!mem)
                return -ENOMEM;
        /* Drop the XML declaration: libvirt does not need it. */
        {
                const char *s = (const char *) mem;
                const char *body = startswith(s, "<?xml") ? strchr(s, '\n') : NULL;

                *ret = strdup(body ? body + 1 : s);
        }
        xmlFree(mem);
        return *ret ? 0 : -ENOMEM;
}

/* The parts every vdesk domain has: name, title, memory, vCPUs, a BIOS
 * machine booting from its disk (then from its CD-ROM, if boot_cdrom),
 * ACPI, and a power-off that ends it. Returns <devices>. */
static xmlNode *add_domain(xmlDocPtr doc, bool kvm, const char *name, const char *uuid, const char *title,
                           unsigned memory_mib, unsigned vcpus, bool boot_cdrom) {
        xmlNode *dom, *os, *n;
        char buf[16];

        dom = xmlNewNode(NULL, BAD_CAST "domain");
        xmlDocSetRootElement(doc, dom);
        attr(dom, "type", kvm ? "kvm" : "qemu");
        add(dom, "name", name);
        if (uuid)
                add(dom, "uuid", uuid);
        add(dom, "title", title);
        snprintf(buf, sizeof buf, "%u", memory_mib);
        attr(add(dom, "memory", buf), "unit", "MiB");
        snprintf(buf, sizeof buf, "%u", vcpus);
        add(dom, "vcpu", buf);

        os = add(dom, "os", NULL);
        n = add(os, "type", "hvm");
        attr(n, "arch", "x86_64");
        attr(n, "machine", "pc");
        attr(add(os, "boot", NULL), "dev", "hd");
        if (boot_cdrom)
                attr(add(os, "boot", NULL), "dev", "cdrom");
        n = add(dom, "features", NULL);
        add(n, "acpi", NULL);
        add(dom, "on_poweroff", "destroy");
        add(dom, "on_reboot", "restart");
        add(dom, "on_crash", "destroy");
        return add(dom, "devices", NULL);
}

/* The chain under a disk's source, named in full so that neither libvirt
 * nor QEMU reads it from a file: its backing file and that file's format
 * (as vdesk recorded it; the file's first bytes may be a guest's), which
 * is whole by itself (an empty <backingStore/>). backing NULL: the source
 * itself is whole. */
static void set_backing_store(xmlNode *disk, const char *backing, const char *backing_format) {
        xmlNode *src = child(disk, "source"), *bs, *next;

        for (xmlNode *n = disk->children; n; n = next) {
                next = n->next;
                if (n->type == XML_ELEMENT_NODE && xmlStrEqual(n->name, BAD_CAST "backingStore")) {
                        xmlUnlinkNode(n);
                        xmlFreeNode(n);
                }
        }
        bs = xmlNewNode(NULL, BAD_CAST "backingStore");
        if (src)
                xmlAddNextSibling(src, bs);
        else
                xmlAddChild(disk, bs);
        if (!backing)
                return;
        attr(bs, "type", "file");
        attr(add(bs, "format", NULL), "type", backing_format);
        attr(add(bs, "source", NULL), "file", backing);
        add(bs, "backingStore", NULL);
}

/* The system disk (vda on virtio, discard passed down) with its chain (see
 * set_backing_store), or a read-only CD-ROM (hdc on IDE: every installer's
 * BIOS boots from it). */
static void add_disk(xmlNode *dev, bool cdrom, const char *format, const char *path, const char *backing,
                     const char *backing_format) {
        xmlNode *disk = add(dev, "disk", NULL), *n;

        attr(disk, "type", "file");
        attr(disk, "device", cdrom ? "cdrom" : "disk");
        n = add(disk, "driver", NULL);
        attr(n, "name", "qemu");
        attr(n, "type", format);
        if (!cdrom)
                attr(n, "discard", "unmap");
        attr(add(disk, "source", NULL), "file", path);
        if (!cdrom)
                set_backing_store(disk, backing, backing_format);
        n = add(disk, "target", NULL);
        attr(n, "dev", cdrom ? "hdc" : "vda");
        attr(n, "bus", cdrom ? "ide" : "virtio");
        if (cdrom)
                add(disk, "readonly", NULL);
}

/* A virtio NIC on a libvirt network; mac NULL: libvirt picks one. */
static void add_nic(xmlNode *dev, const char *network, const char *mac) {
        xmlNode *nic = add(dev, "interface", NULL);

        attr(nic, "type", "network");
        attr(add(nic, "source", NULL), "network", network);
        if (mac)
                attr(add(nic, "mac", NULL), "address", mac);
        attr(add(nic, "model", NULL), "type", "virtio");
}

/* The serial console, logged to a file unless log is NULL. */
static void add_serial(xmlNode *dev, const char *log) {
        xmlNode *ser = add(dev, "serial", NULL), *n;

        attr(ser, "type", "pty");
        if (log) {
                n = add(ser, "log", NULL);
                attr(n, "file", log);
                attr(n, "append", "off");
        }
}

int domain_xml_build(const DomainSpec *s, char **ret) {
        _cleanup_(xmlFreeDocp) xmlDocPtr doc = NULL;
        const DesktopMeta *m = s->meta;
        xmlNode *dev;
        int r;

        doc = xmlNewDoc(BAD_CAST "1.0");
        if (!doc)
                return -ENOMEM;
        dev = add_domain(doc, s->kvm, m->name, m->uuid, "vdesk desktop", s->memory_mib, s->vcpus, false);
        r = add_meta(add(xmlDocGetRootElement(doc), "metadata", NULL), m);
        if (r < 0)
                return r;
        if (!m->template_format)
                return -EINVAL;
        add_disk(dev, false, "qcow2", m->disk_path, m->template_path, m->template_format);
        add_nic(dev, m->network, m->mac);
        add_serial(dev, s->console_log);
        attr(add(dev, "memballoon", NULL), "model", "none");
        return doc_to_string(doc, ret);
}

int domain_xml_set_meta(const char *domain_xml, const DesktopMeta *meta, char **ret) {
        _cleanup_(xmlFreeDocp) xmlDocPtr doc = NULL;
        xmlNode *md, *next, *devices;
        int r;

        doc = parse(domain_xml, "domain.xml");
        if (!doc)
                return -EINVAL;
        md = child(xmlDocGetRootElement(doc), "metadata");
        if (!md)
                return -ENODATA;
        /* the desktop's disk is backed by the metadata's template */
        devices = child(xmlDocGetRootElement(doc), "devices");
        for (xmlNode *d = devices ? devices->children : NULL; d && meta->template_format; d = d->next) {
                xmlChar *file;
                bool ours;

                if (d->type != XML_ELEMENT_NODE || !xmlStrEqual(d->name, BAD_CAST "disk"))
                        continue;
                file = xmlGetProp(child(d, "source"), BAD_CAST "file");
                ours = file && streq((const char *) file, meta->disk_path);
                xmlFree(file);
                if (ours)
                        set_backing_store(d, meta->template_path, meta->template_format);
        }
        for (xmlNode *n = md->children; n; n = next) {
                next = n->next;
                if (n->type == XML_ELEMENT_NODE && n->ns && xmlStrEqual(n->ns->href, BAD_CAST VDESK_METADATA_NS)) {
                        xmlUnlinkNode(n);
                        xmlFreeNode(n);
                }
        }
        r = add_meta(md, meta);
        if (r < 0)
                return r;
        return doc_to_string(doc, ret);
}

/* libvirt's passwdValidTo: UTC, without a zone. */
static void format_valid_to(uint64_t t, char buf[static 32]) {
        time_t tt = (time_t) t;
        struct tm tm;

        gmtime_r(&tt, &tm);
        strftime(buf, 32, "%Y-%m-%dT%H:%M:%S", &tm);
}

int console_domain_xml_build(const ConsoleDomainSpec *s, char **ret) {
        _cleanup_(xmlFreeDocp) xmlDocPtr doc = NULL;
        xmlNode *dev, *g, *n;
        char buf[32];

        doc = xmlNewDoc(BAD_CAST "1.0");
        if (!doc)
                return -ENOMEM;
        /* The disk first: an empty one does not boot and the BIOS goes on
         * to the ISO; once installed, the system boots from its disk. */
        dev = add_domain(doc, s->kvm, s->name, NULL, s->title, s->memory_mib, s->vcpus, s->iso_path);
        add_disk(dev, false, s->disk_format, s->disk_path, s->backing_path, s->backing_format);
        if (s->iso_path)
                add_disk(dev, true, "raw", s->iso_path, NULL, NULL);
        add_nic(dev, s->network, NULL);

        /* SPICE with a password nobody knows that has expired already: the
         * console is unusable until a ticket is issued. "keep": a client
         * that is in stays in when the ticket is rotated. */
        g = add(dev, "graphics", NULL);
        attr(g, "type", "spice");
        attr(g, "autoport", "yes");
        attr(g, "passwd", s->password);
        format_valid_to(1, buf);
        attr(g, "passwdValidTo", buf);
        attr(g, "connected", "keep");
        n = add(g, "listen", NULL);
        attr(n, "type", "address");
        attr(n, "address", s->listen);
        n = add(dev, "video", NULL);
        attr(add(n, "model", NULL), "type", "qxl");
        n = add(dev, "input", NULL);
        attr(n, "type", "tablet");
        attr(n, "bus", "usb");
        add_serial(dev, s->console_log);
        return doc_to_string(doc, ret);
}

int spice_ticket_xml_build(const char *domain_xml, const char *password, uint64_t valid_to, char **ret_xml,
                           unsigned *ret_port, char **ret_listen) {
        _cleanup_(xmlFreeDocp) xmlDocPtr doc = NULL, out = NULL;
        xmlNode *devices, *g = NULL, *copy;
        xmlChar *port = NULL, *listen = NULL;
        char buf[32];
        unsigned p;
        int r;

        doc = parse(domain_xml, "domain.xml");
        if (!doc)
                return -EINVAL;
        devices = child(xmlDocGetRootElement(doc), "devices");
        for (xmlNode *n = devices ? devices->children : NULL; n && !g; n = n->next) {
                xmlChar *type;

                if (n->type != XML_ELEMENT_NODE || !xmlStrEqual(n->name, BAD_CAST "graphics"))
                        continue;
                type = xmlGetProp(n, BAD_CAST "type");
                if (type && xmlStrEqual(type, BAD_CAST "spice"))
                        g = n;
                xmlFree(type);
        }
        if (!g)
                return -ENOENT;
        port = xmlGetProp(g, BAD_CAST "port");
        listen = xmlGetProp(g, BAD_CAST "listen");
        p = port ? (unsigned) strtoul((const char *) port, NULL, 10) : 0;
        r = p > 0 && p < 65536 ? 0 : -ENOENT;           /* -1 (autoport) until it runs */
        if (r >= 0 && !listen)
                r = -ENOENT;
        if (r >= 0) {
                out = xmlNewDoc(BAD_CAST "1.0");
                copy = out ? xmlDocCopyNode(g, out, 1) : NULL;
                if (!copy)
                        r = -ENOMEM;
                else {
                        xmlDocSetRootElement(out, copy);
                        xmlSetProp(copy, BAD_CAST "passwd", BAD_CAST password);
                        format_valid_to(valid_to, buf);
                        xmlSetProp(copy, BAD_CAST "passwdValidTo", BAD_CAST buf);
                        r = doc_to_string(out, ret_xml);
                }
        }
        if (r >= 0) {
                *ret_port = p;
                *ret_listen = strdup((const char *) listen);
                if (!*ret_listen) {
                        free(*ret_xml);
                        r = -ENOMEM;
                }
        }
        xmlFree(port);
        xmlFree(listen);
        return r;
}

int network_xml_build(const LibvirtNetwork *c, char **ret) {
        _cleanup_(xmlFreeDocp) xmlDocPtr doc = NULL;
        xmlNode *net, *n, *ip, *opts;
        xmlNs *ns;
        char buf[16];

        doc = xmlNewDoc(BAD_CAST "1.0");
        if (!doc)
                return -ENOMEM;
        net = xmlNewNode(NULL, BAD_CAST "network");
        xmlDocSetRootElement(doc, net);
        ns = xmlNewNs(net, BAD_CAST "http://libvirt.org/schemas/network/dnsmasq/1.0", BAD_CAST "dnsmasq");
        add(net, "name", c->name);
        attr(add(net, "forward", NULL), "mode", "open");
        n = add(net, "bridge", NULL);
        attr(n, "name", c->bridge);
        attr(n, "stp", "off");
        attr(n, "delay", "0");
        if (c->mtu) {
                snprintf(buf, sizeof buf, "%u", c->mtu);
                attr(add(net, "mtu", NULL), "size", buf);
        }

        ip = add(net, "ip", NULL);
        attr(ip, "address", c->gateway);
        snprintf(buf, sizeof buf, "%u", c->prefix);
        attr(ip, "prefix", buf);
        /* No range: dnsmasq answers only the MACs vdesk registered; those
         * there are when the network is defined are in its definition, so
         * a host that serves it for the first time answers like the others. */
        n = add(ip, "dhcp", NULL);
        for (size_t i = 0; i < c->n_hosts; i++) {
                xmlNode *h = add(n, "host", NULL);
                char a[16];

                ipv4_format(c->hosts[i].address, a);
                attr(h, "mac", c->hosts[i].mac);
                attr(h, "ip", a);
        }

        /* Without no-ping dnsmasq probes each address for 3 s before its
         * first offer. */
        opts = xmlNewChild(net, ns, BAD_CAST "options", NULL);
        n = xmlNewChild(opts, ns, BAD_CAST "option", NULL);
        attr(n, "value", "no-ping");

        return doc_to_string(doc, ret);
}

int dhcp_host_xml_build(const char *mac, const char *address, char **ret) {
        _cleanup_(xmlFreeDocp) xmlDocPtr doc = NULL;
        xmlNode *h;

        doc = xmlNewDoc(BAD_CAST "1.0");
        if (!doc)
                return -ENOMEM;
        h = xmlNewNode(NULL, BAD_CAST "host");
        xmlDocSetRootElement(doc, h);
        /* No name=: desktop names may hold characters a DHCP host name
         * may not, and the MAC alone identifies the desktop. */
        attr(h, "mac", mac);
        attr(h, "ip", address);
        return doc_to_string(doc, ret);
}
