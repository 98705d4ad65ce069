/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <arpa/inet.h>
#include <errno.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/nf_conntrack_tcp.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>

#include <libmnl/libmnl.h>
#include <stdbool.h>

#include "conntrack.h"
#include "macro.h"

/* What libmnl later named MNL_SOCKET_DUMP_SIZE: the kernel fills a dump's
 * messages up to 32 KiB, so a smaller buffer would truncate them. */
#define DUMP_BUFFER_SIZE 32768

typedef struct PortIndex {
        uint16_t port;
        size_t index;
} PortIndex;

typedef struct CountState {
        const Forward *forwards;
        PortIndex *by_port;     /* sorted by port */
        size_t n;
        unsigned *counts;
} CountState;

DEFINE_TRIVIAL_CLEANUP_FUNC(struct mnl_socket *, mnl_socket_close);

static int port_index_compare(const void *a, const void *b) {
        const PortIndex *x = a, *y = b;

        return (x->port > y->port) - (x->port < y->port);
}

/* The attributes of one nesting level (or of the message, nest NULL), by
 * type; those above max are skipped. */
static void attrs_parse(const struct nlmsghdr *nlh, const struct nlattr *nest, const struct nlattr **tb,
                        unsigned max) {
        const struct nlattr *a;

        for (unsigned i = 0; i <= max; i++)
                tb[i] = NULL;
        if (nest) {
                mnl_attr_for_each_nested(a, nest)
                        if (mnl_attr_get_type(a) <= max)
                                tb[mnl_attr_get_type(a)] = a;
        } else {
                mnl_attr_for_each(a, nlh, sizeof(struct nfgenmsg))
                        if (mnl_attr_get_type(a) <= max)
                                tb[mnl_attr_get_type(a)] = a;
        }
}

/* A tuple's address (source or destination) and port, network order
 * turned to host's; -1 if the tuple is not IPv4 TCP. */
static int tuple_read(const struct nlattr *tuple, bool source, uint32_t *ret_address, uint16_t *ret_port) {
        const struct nlattr *tb[CTA_TUPLE_MAX + 1], *ip[CTA_IP_MAX + 1], *proto[CTA_PROTO_MAX + 1];
        const struct nlattr *a, *p;

        attrs_parse(NULL, tuple, tb, CTA_TUPLE_MAX);
        if (!tb[CTA_TUPLE_IP] || !tb[CTA_TUPLE_PROTO])
                return -1;
        attrs_parse(NULL, tb[CTA_TUPLE_IP], ip, CTA_IP_MAX);
        attrs_parse(NULL, tb[CTA_TUPLE_PROTO], proto, CTA_PROTO_MAX);
        a = ip[source ? CTA_IP_V4_SRC : CTA_IP_V4_DST];
        p = proto[source ? CTA_PROTO_SRC_PORT : CTA_PROTO_DST_PORT];
        if (!a || !p || !proto[CTA_PROTO_NUM] || mnl_attr_get_u8(proto[CTA_PROTO_NUM]) != IPPROTO_TCP)
                return -1;
        *ret_address = ntohl(mnl_attr_get_u32(a));
        *ret_port = ntohs(mnl_attr_get_u16(p));
        return 0;
}

static bool tcp_established(const struct nlattr *protoinfo) {
        const struct nlattr *tb[CTA_PROTOINFO_MAX + 1], *tcp[CTA_PROTOINFO_TCP_MAX + 1];

        attrs_parse(NULL, protoinfo, tb, CTA_PROTOINFO_MAX);
        if (!tb[CTA_PROTOINFO_TCP])
                return false;
        attrs_parse(NULL, tb[CTA_PROTOINFO_TCP], tcp, CTA_PROTOINFO_TCP_MAX);
        return tcp[CTA_PROTOINFO_TCP_STATE] &&
               mnl_attr_get_u8(tcp[CTA_PROTOINFO_TCP_STATE]) == TCP_CONNTRACK_ESTABLISHED;
}

static int entry_cb(const struct nlmsghdr *nlh, void *userdata) {
        CountState *s = userdata;
        const struct nlattr *tb[CTA_MAX + 1];
        PortIndex key, *hit;
        uint32_t orig_daddr, reply_saddr;
        uint16_t reply_sport;
        const Forward *f;

        attrs_parse(nlh, NULL, tb, CTA_MAX);
        /* older kernels ignore the status filter of the dump: checked here too */
        if (!tb[CTA_STATUS] || !(ntohl(mnl_attr_get_u32(tb[CTA_STATUS])) & IPS_DST_NAT))
                return MNL_CB_OK;
        if (!tb[CTA_TUPLE_ORIG] || !tb[CTA_TUPLE_REPLY] || !tb[CTA_PROTOINFO] || !tcp_established(tb[CTA_PROTOINFO]))
                return MNL_CB_OK;
        if (tuple_read(tb[CTA_TUPLE_ORIG], false, &orig_daddr, &key.port) < 0 ||
            tuple_read(tb[CTA_TUPLE_REPLY], true, &reply_saddr, &reply_sport) < 0)
                return MNL_CB_OK;
        hit = bsearch(&key, s->by_port, s->n, sizeof *s->by_port, port_index_compare);
        if (!hit)
                return MNL_CB_OK;
        f = &s->forwards[hit->index];
        if (f->address == reply_saddr && f->guest_port == reply_sport)
                s->counts[hit->index]++;
        return MNL_CB_OK;
}

static int dump(struct mnl_socket *nl, CountState *s) {
        _cleanup_(freep) char *buf = malloc(DUMP_BUFFER_SIZE);
        struct nlmsghdr *nlh;
        struct nfgenmsg *g;
        uint32_t seq = 1, portid = mnl_socket_get_portid(nl);

        if (!buf)
                return -ENOMEM;
        nlh = mnl_nlmsg_put_header(buf);
        nlh->nlmsg_type = (NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_GET;
        nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
        nlh->nlmsg_seq = seq;
        g = mnl_nlmsg_put_extra_header(nlh, sizeof *g);
        g->nfgen_family = AF_INET;
        g->version = NFNETLINK_V0;
        g->res_id = 0;
        mnl_attr_put_u32(nlh, CTA_STATUS, htonl(IPS_DST_NAT));
        mnl_attr_put_u32(nlh, CTA_STATUS_MASK, htonl(IPS_DST_NAT));
        if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
                return -errno;
        for (;;) {
                ssize_t n = mnl_socket_recvfrom(nl, buf, DUMP_BUFFER_SIZE);
                int r;

                if (n < 0)
                        return -errno;
                r = mnl_cb_run(buf, (size_t) n, seq, portid, entry_cb, s);
                if (r < 0)
                        return -errno;
                if (r == MNL_CB_STOP)
                        return 0;
        }
}

int conntrack_count_forwards(const Forward *f, size_t n, unsigned **ret_counts) {
        _cleanup_(mnl_socket_closep) struct mnl_socket *nl = NULL;
        _cleanup_(freep) PortIndex *by_port = NULL;
        _cleanup_(freep) unsigned *counts = NULL;
        CountState s;
        int r;

        by_port = new0(PortIndex, n + 1);
        counts = new0(unsigned, n + 1);
        if (!by_port || !counts)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++)
                by_port[i] = (PortIndex) { .port = f[i].port, .index = i };
        qsort(by_port, n, sizeof *by_port, port_index_compare);
        s = (CountState) { .forwards = f, .by_port = by_port, .n = n, .counts = counts };

        if (n > 0) {
                nl = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC);
                if (!nl)
                        return -errno;
                if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0)
                        return -errno;
                r = dump(nl, &s);
                if (r < 0)
                        return r;
        }
        *ret_counts = TAKE_PTR(counts);
        return 0;
}
