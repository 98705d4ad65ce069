/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <arpa/inet.h>
#include <assert.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>
#include <net/if.h>
#include <time.h>

#include <libmnl/libmnl.h>
#include <libnftnl/common.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <libnftnl/udata.h>
#include <nftables/libnftables.h>

#include "log.h"
#include "macro.h"
#include "nft.h"
#include "util.h"

struct NftContext {
        struct mnl_socket *nl;
        size_t sndbuf;          /* what SO_SNDBUF was raised to */
        uint32_t portid;
        uint32_t seq;
        char *rbuf;
        size_t rbuf_size;
};

DEFINE_TRIVIAL_CLEANUP_FUNC(struct nftnl_set *, nftnl_set_free);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct nftnl_table *, nftnl_table_free);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct nft_ctx *, nft_ctx_free);

/* Upper bounds of what libnftnl writes, which it does not check itself. */
#define MSG_OVERHEAD  256
#define ELEM_MAX_SIZE (64 + NLMSG_ALIGN(2 + sizeof(((Forward *) 0)->desktop)) + 64)

/* A set (or map) of our table, to put elements in. */
static struct nftnl_set *named_set_new(const char *name) {
        struct nftnl_set *s = nftnl_set_alloc();

        if (!s)
                return NULL;
        nftnl_set_set_str(s, NFTNL_SET_TABLE, NFT_TABLE);
        nftnl_set_set_str(s, NFTNL_SET_NAME, name);
        return s;
}

static struct nftnl_set *forward_set_new(void) {
        return named_set_new(NFT_FORWARD_MAP);
}

static int elem_add(struct nftnl_set *s, NftOp op, const Forward *f) {
        struct nftnl_set_elem *e;
        uint16_t key = htons(f->port);

        e = nftnl_set_elem_alloc();
        if (!e)
                return -ENOMEM;
        nftnl_set_elem_set(e, NFTNL_SET_ELEM_KEY, &key, sizeof key);

        if (op == NFT_OP_ADD) {
                /* ipv4_addr . inet_service: each part in its own 32-bit word. */
                uint8_t data[8] = {};
                uint32_t a = htonl(f->address);
                uint16_t p = htons(f->guest_port);

                memcpy(data, &a, 4);
                memcpy(data + 4, &p, 2);
                nftnl_set_elem_set(e, NFTNL_SET_ELEM_DATA, data, sizeof data);

                if (f->desktop[0]) {
                        struct nftnl_udata_buf *u = nftnl_udata_buf_alloc(sizeof f->desktop + 8);

                        if (!u || !nftnl_udata_put_strz(u, NFTNL_UDATA_SET_ELEM_COMMENT, f->desktop)) {
                                nftnl_udata_buf_free(u);
                                nftnl_set_elem_free(e);
                                return -ENOMEM;
                        }
                        nftnl_set_elem_set(e, NFTNL_SET_ELEM_USERDATA, nftnl_udata_buf_data(u),
                                           nftnl_udata_buf_len(u));
                        nftnl_udata_buf_free(u);
                }
        }
        nftnl_set_elem_add(s, e);
        return 0;
}

int nft_batch_build(NftBatch *b, NftOp op, const Forward *f, size_t n, uint32_t seq) {
        size_t n_msgs = (n + NFT_ELEMS_PER_MSG - 1) / NFT_ELEMS_PER_MSG;
        size_t size = 2 * MSG_OVERHEAD + n_msgs * MSG_OVERHEAD + n * ELEM_MAX_SIZE;
        _cleanup_(freep) char *buf = NULL;
        size_t len = 0;
        struct nlmsghdr *nlh;

        if (n == 0)
                return -EINVAL;
        buf = calloc(1, size);
        if (!buf)
                return -ENOMEM;

        nlh = nftnl_batch_begin(buf, seq++);
        len += NLMSG_ALIGN(nlh->nlmsg_len);

        for (size_t m = 0; m < n_msgs; m++) {
                _cleanup_(nftnl_set_freep) struct nftnl_set *s = forward_set_new();
                size_t from = m * NFT_ELEMS_PER_MSG, to = MIN(n, from + NFT_ELEMS_PER_MSG);
                int r;

                if (!s)
                        return -ENOMEM;
                for (size_t i = from; i < to; i++) {
                        r = elem_add(s, op, &f[i]);
                        if (r < 0)
                                return r;
                }
                /* No NLM_F_EXCL: re-adding an identical element succeeds, one
                 * with other data fails with EEXIST. */
                nlh = nftnl_nlmsg_build_hdr(buf + len,
                                            op == NFT_OP_ADD ? NFT_MSG_NEWSETELEM : NFT_MSG_DELSETELEM,
                                            NFPROTO_INET,
                                            (op == NFT_OP_ADD ? NLM_F_CREATE : 0) | NLM_F_ACK,
                                            seq + (uint32_t) m);
                nftnl_set_elems_nlmsg_build_payload(nlh, s);
                len += NLMSG_ALIGN(nlh->nlmsg_len);
                assert(len + MSG_OVERHEAD <= size);
        }

        nlh = nftnl_batch_end(buf + len, seq + (uint32_t) n_msgs);
        len += NLMSG_ALIGN(nlh->nlmsg_len);

        *b = (NftBatch) {
                .buf = TAKE_PTR(buf),
                .size = size,
                .len = len,
                .seq_first = seq,
                .n_msgs = n_msgs,
                .per_msg = NFT_ELEMS_PER_MSG,
        };
        return 0;
}

void nft_batch_done(NftBatch *b) {
        free(b->buf);
        *b = (NftBatch) {};
}

static const char *msg_type_name(uint16_t type) {
        switch (type) {
        case NFNL_MSG_BATCH_BEGIN:
                return "batch-begin";
        case NFNL_MSG_BATCH_END:
                return "batch-end";
        }
        switch (type & 0xff) {
        case NFT_MSG_NEWSETELEM:
                return "newsetelem";
        case NFT_MSG_DELSETELEM:
                return "delsetelem";
        }
        return "unknown";
}

static void dump_hex(FILE *f, const void *data, size_t n) {
        const uint8_t *p = data;

        for (size_t i = 0; i < n; i++)
                fprintf(f, "%02x", p[i]);
}

/* Decodes one element list attribute by attribute. (libnftnl's own parser
 * rejects the element nests it builds itself: it numbers them 1, 2, 3 and
 * then expects type 1 for each; the kernel ignores the type.) */
static void dump_elems(FILE *f, const struct nlmsghdr *nlh) {
        const struct nlattr *attr, *elem, *a, *v;

        mnl_attr_for_each(attr, nlh, sizeof(struct nfgenmsg)) {
                switch (mnl_attr_get_type(attr)) {
                case NFTA_SET_ELEM_LIST_TABLE:
                        fprintf(f, "  table %s\n", mnl_attr_get_str(attr));
                        break;
                case NFTA_SET_ELEM_LIST_SET:
                        fprintf(f, "  set %s\n", mnl_attr_get_str(attr));
                        break;
                case NFTA_SET_ELEM_LIST_ELEMENTS:
                        mnl_attr_for_each_nested(elem, attr) {
                                fprintf(f, "  element");
                                mnl_attr_for_each_nested(a, elem) {
                                        switch (mnl_attr_get_type(a)) {
                                        case NFTA_SET_ELEM_KEY:
                                        case NFTA_SET_ELEM_KEY_END:
                                        case NFTA_SET_ELEM_DATA:
                                                fprintf(f, mnl_attr_get_type(a) == NFTA_SET_ELEM_KEY ? " key=" :
                                                           mnl_attr_get_type(a) == NFTA_SET_ELEM_KEY_END ? " key_end=" : " data=");
                                                mnl_attr_for_each_nested(v, a)
                                                        dump_hex(f, mnl_attr_get_payload(v), mnl_attr_get_payload_len(v));
                                                break;
                                        case NFTA_SET_ELEM_FLAGS:
                                                fprintf(f, " flags=%u", ntohl(mnl_attr_get_u32(a)));
                                                break;
                                        case NFTA_SET_ELEM_USERDATA:
                                                fprintf(f, " userdata=");
                                                dump_hex(f, mnl_attr_get_payload(a), mnl_attr_get_payload_len(a));
                                                break;
                                        default:
                                                fprintf(f, " attr%u", mnl_attr_get_type(a));
                                        }
                                }
                                fprintf(f, "\n");
                        }
                        break;
                default:
                        fprintf(f, "  attr%u\n", mnl_attr_get_type(attr));
                }
        }
}

int nft_batch_dump(const NftBatch *b, char **ret) {
        _cleanup_(freep) char *out = NULL;
        size_t out_size = 0;
        int left = (int) b->len;
        FILE *f;

        f = open_memstream(&out, &out_size);
        if (!f)
                return -ENOMEM;

        for (const struct nlmsghdr *nlh = (const void *) b->buf; mnl_nlmsg_ok(nlh, left);
             nlh = mnl_nlmsg_next(nlh, &left)) {
                const struct nfgenmsg *g = mnl_nlmsg_get_payload(nlh);

                fprintf(f, "%s flags=0x%x seq=+%u family=%u len=%u\n", msg_type_name(nlh->nlmsg_type),
                        nlh->nlmsg_flags, nlh->nlmsg_seq - (b->seq_first - 1), g->nfgen_family, nlh->nlmsg_len);
                if (nlh->nlmsg_type != NFNL_MSG_BATCH_BEGIN && nlh->nlmsg_type != NFNL_MSG_BATCH_END)
                        dump_elems(f, nlh);
        }
        if (fclose(f) != 0)
                return -ENOMEM;
        *ret = TAKE_PTR(out);
        return 0;
}

int nft_context_new(NftContext **ret) {
        _cleanup_(freep) NftContext *ctx = NULL;
        int one = 1;

        ctx = calloc(1, sizeof *ctx);
        if (!ctx)
                return -ENOMEM;
        ctx->rbuf_size = MNL_SOCKET_BUFFER_SIZE * 16;
        ctx->rbuf = malloc(ctx->rbuf_size);
        if (!ctx->rbuf)
                return -ENOMEM;
        ctx->nl = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC);
        if (!ctx->nl) {
                free(ctx->rbuf);
                return -errno;
        }
        if (mnl_socket_bind(ctx->nl, 0, MNL_SOCKET_AUTOPID) < 0) {
                int r = -errno;
                mnl_socket_close(ctx->nl);
                free(ctx->rbuf);
                return r;
        }
        /* Errors then carry only the failing message's header, not its
         * up-to-64 KiB payload; extended acks name the failing attribute. */
        (void) mnl_socket_setsockopt(ctx->nl, NETLINK_CAP_ACK, &one, sizeof one);
        (void) mnl_socket_setsockopt(ctx->nl, NETLINK_EXT_ACK, &one, sizeof one);
        ctx->portid = mnl_socket_get_portid(ctx->nl);
        ctx->seq = (uint32_t) time(NULL) << 8;
        *ret = TAKE_PTR(ctx);
        return 0;
}

NftContext *nft_context_free(NftContext *ctx) {
        if (!ctx)
                return NULL;
        mnl_socket_close(ctx->nl);
        free(ctx->rbuf);
        free(ctx);
        return NULL;
}

uint32_t nft_context_take_seq(NftContext *ctx, uint32_t n) {
        uint32_t s = ctx->seq;

        ctx->seq += n;
        return s;
}

int nft_batch_commit(NftContext *ctx, const NftBatch *b, size_t *ret_index) {
        int fd = mnl_socket_get_fd(ctx->nl);
        int sndbuf = (int) MAX(b->len * 2, (size_t) 1 << 18);
        int first_error = 0;
        size_t first_failed = 0;

        /* The whole transaction goes in one sendmsg(), so that the kernel sees
         * it at once: raise the send buffer to fit it (SNDBUFFORCE needs
         * CAP_NET_ADMIN, which netd has anyway). */
        if ((size_t) sndbuf > ctx->sndbuf) {
                if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &sndbuf, sizeof sndbuf) < 0)
                        (void) setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
                ctx->sndbuf = (size_t) sndbuf;
        }

        if (mnl_socket_sendto(ctx->nl, b->buf, b->len) < 0)
                return -errno;

        /* nfnetlink handles the batch synchronously within sendmsg(): every
         * ack is queued by now, so read until the queue is empty. */
        for (size_t acks = 0; acks < b->n_msgs; ) {
                ssize_t k = recv(fd, ctx->rbuf, ctx->rbuf_size, acks == 0 && !first_error ? 0 : MSG_DONTWAIT);
                int n = (int) k;

                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        if (errno == EAGAIN)
                                break;
                        return -errno;
                }
                for (const struct nlmsghdr *nlh = (const void *) ctx->rbuf; mnl_nlmsg_ok(nlh, n);
                     nlh = mnl_nlmsg_next(nlh, &n)) {
                        const struct nlmsgerr *err;

                        if (nlh->nlmsg_type != NLMSG_ERROR || nlh->nlmsg_pid != ctx->portid)
                                continue;
                        err = mnl_nlmsg_get_payload(nlh);
                        acks++;
                        if (err->error != 0 && !first_error) {
                                first_error = err->error;
                                first_failed = (err->msg.nlmsg_seq - b->seq_first) * b->per_msg;
                        }
                }
        }

        if (first_error) {
                if (ret_index)
                        *ret_index = first_failed;
                return first_error;
        }
        return 0;
}

/* Sends one request and runs cb on every reply until the kernel is done. */
static int request(NftContext *ctx, struct nlmsghdr *nlh, mnl_cb_t cb, void *userdata) {
        uint32_t seq = nlh->nlmsg_seq;
        int r;

        if (mnl_socket_sendto(ctx->nl, nlh, nlh->nlmsg_len) < 0)
                return -errno;
        for (;;) {
                ssize_t n = mnl_socket_recvfrom(ctx->nl, ctx->rbuf, ctx->rbuf_size);

                if (n < 0)
                        return errno == EINTR ? -EINTR : -errno;
                r = mnl_cb_run(ctx->rbuf, (size_t) n, seq, ctx->portid, cb, userdata);
                if (r < 0)
                        return -errno;
                if (r == MNL_CB_STOP)
                        return 0;
        }
}

static int table_cb(const struct nlmsghdr *nlh, void *userdata) {
        struct nftnl_table *t = userdata;

        return nftnl_table_nlmsg_parse(nlh, t) < 0 ? MNL_CB_ERROR : MNL_CB_OK;
}

static int table_comment_cb(const struct nftnl_udata *attr, void *data) {
        const char **comment = data;
        const char *v = nftnl_udata_get(attr);
        uint8_t len = nftnl_udata_len(attr);

        if (nftnl_udata_type(attr) == NFTNL_UDATA_TABLE_COMMENT && len > 0 && v[len - 1] == 0)
                *comment = v;
        return 0;
}

static int parse_version(const char *comment, unsigned *ret) {
        const char *v = startswith(comment, NFT_RULESET_COMMENT_PREFIX);
        char *end;
        unsigned long n;

        if (!v || *v < '1' || *v > '9')
                return -EPROTO;
        n = strtoul(v, &end, 10);
        if (*end || n > 1000000)
                return -EPROTO;
        *ret = (unsigned) n;
        return 0;
}

int nft_table_version(NftContext *ctx, unsigned *ret_version) {
        _cleanup_(nftnl_table_freep) struct nftnl_table *t = nftnl_table_alloc();
        char buf[MNL_SOCKET_BUFFER_SIZE];
        struct nlmsghdr *nlh;
        const void *udata;
        const char *comment = NULL;
        uint32_t len = 0;
        int r;

        if (!t)
                return -ENOMEM;
        nftnl_table_set_str(t, NFTNL_TABLE_NAME, NFT_TABLE);
        nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETTABLE, NFPROTO_INET, NLM_F_ACK, nft_context_take_seq(ctx, 1));
        nftnl_table_nlmsg_build_payload(nlh, t);

        r = request(ctx, nlh, table_cb, t);
        if (r == -ENOENT) {
                *ret_version = 0;
                return 0;
        }
        if (r < 0)
                return r;

        udata = nftnl_table_get_data(t, NFTNL_TABLE_USERDATA, &len);
        if (udata)
                (void) nftnl_udata_parse(udata, len, table_comment_cb, &comment);
        if (!comment)
                return -EPROTO;
        return parse_version(comment, ret_version);
}

int nft_ruleset_file_version(const char *path, unsigned *ret_version) {
        _cleanup_(freep) char *text = NULL;
        const char *p, *q;
        char comment[64];
        int r;

        r = read_full_file(path, 1 << 20, &text, NULL);
        if (r < 0)
                return r;
        p = strstr(text, "comment \"" NFT_RULESET_COMMENT_PREFIX);
        if (!p)
                return -EPROTO;
        p += strlen("comment \"");
        q = strchr(p, '"');
        if (!q || (size_t) (q - p) >= sizeof comment)
                return -EPROTO;
        memcpy(comment, p, q - p);
        comment[q - p] = 0;
        return parse_version(comment, ret_version);
}

int nft_ruleset_load(const char *path, char **ret_error) {
        _cleanup_(nft_ctx_freep) struct nft_ctx *nft = NULL;
        _cleanup_(freep) char *text = NULL, *cmd = NULL;
        int r;

        r = read_full_file(path, 1 << 20, &text, NULL);
        if (r < 0)
                return r;
        /* "add, delete, then the file" in one transaction: the tables are
         * replaced atomically whether they existed or not. */
        if (asprintf(&cmd,
                     "table inet " NFT_TABLE "\ndelete table inet " NFT_TABLE "\n"
                     "table bridge " NFT_TABLE "\ndelete table bridge " NFT_TABLE "\n%s", text) < 0)
                return -ENOMEM;

        nft = nft_ctx_new(NFT_CTX_DEFAULT);
        if (!nft)
                return -ENOMEM;
        nft_ctx_buffer_output(nft);
        nft_ctx_buffer_error(nft);
        if (nft_run_cmd_from_buffer(nft, cmd) != 0) {
                if (ret_error)
                        *ret_error = strdup(strempty(nft_ctx_get_error_buffer(nft)));
                return -EINVAL;
        }
        return 0;
}

typedef struct ElemDump {
        Forward *f;
        size_t n;
        size_t allocated;
        int error;
} ElemDump;

static int elems_cb(const struct nlmsghdr *nlh, void *userdata) {
        ElemDump *d = userdata;
        _cleanup_(nftnl_set_freep) struct nftnl_set *s = nftnl_set_alloc();
        struct nftnl_set_elems_iter *it;
        struct nftnl_set_elem *e;

        if (!s || nftnl_set_elems_nlmsg_parse(nlh, s) < 0)
                return MNL_CB_ERROR;
        it = nftnl_set_elems_iter_create(s);
        if (!it)
                return MNL_CB_ERROR;
        while ((e = nftnl_set_elems_iter_next(it))) {
                uint32_t klen = 0, dlen = 0, ulen = 0;
                const uint8_t *key = nftnl_set_elem_get(e, NFTNL_SET_ELEM_KEY, &klen);
                const uint8_t *data = nftnl_set_elem_get(e, NFTNL_SET_ELEM_DATA, &dlen);
                const void *udata = nftnl_set_elem_get(e, NFTNL_SET_ELEM_USERDATA, &ulen);
                Forward *f;
                uint32_t a;
                uint16_t p;

                if (!key || klen < 2 || !data || dlen < 6)
                        continue;
                if (d->n == d->allocated) {
                        size_t na = d->allocated ? d->allocated * 2 : 64;
                        Forward *t = realloc(d->f, na * sizeof *t);
                        if (!t) {
                                nftnl_set_elems_iter_destroy(it);
                                return MNL_CB_ERROR;
                        }
                        d->f = t;
                        d->allocated = na;
                }
                f = &d->f[d->n++];
                *f = (Forward) {};
                memcpy(&p, key, 2);
                f->port = ntohs(p);
                memcpy(&a, data, 4);
                f->address = ntohl(a);
                memcpy(&p, data + 4, 2);
                f->guest_port = ntohs(p);
                if (udata) {
                        const char *comment = NULL;
                        (void) nftnl_udata_parse(udata, ulen, table_comment_cb, &comment);
                        /* NFTNL_UDATA_SET_ELEM_COMMENT and the table's share
                         * type 0, so the same callback finds either. */
                        if (comment)
                                snprintf(f->desktop, sizeof f->desktop, "%s", comment);
                }
        }
        nftnl_set_elems_iter_destroy(it);
        return MNL_CB_OK;
}

int nft_forwards_list(NftContext *ctx, Forward **ret, size_t *ret_n) {
        _cleanup_(nftnl_set_freep) struct nftnl_set *s = forward_set_new();
        char buf[MNL_SOCKET_BUFFER_SIZE];
        struct nlmsghdr *nlh;
        ElemDump d = {};
        int r;

        if (!s)
                return -ENOMEM;
        nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETSETELEM, NFPROTO_INET, NLM_F_DUMP | NLM_F_ACK,
                                    nft_context_take_seq(ctx, 1));
        nftnl_set_elems_nlmsg_build_payload(nlh, s);
        r = request(ctx, nlh, elems_cb, &d);
        if (r < 0) {
                free(d.f);
                return r;
        }
        *ret = d.f;
        *ret_n = d.n;
        return 0;
}

int nft_forward_get(NftContext *ctx, uint16_t port, Forward *ret) {
        _cleanup_(nftnl_set_freep) struct nftnl_set *s = forward_set_new();
        char buf[MNL_SOCKET_BUFFER_SIZE];
        struct nlmsghdr *nlh;
        Forward key = { .port = port };
        ElemDump d = {};
        int r;

        if (!s)
                return -ENOMEM;
        r = elem_add(s, NFT_OP_DELETE, &key);   /* key only */
        if (r < 0)
                return r;
        nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETSETELEM, NFPROTO_INET, NLM_F_ACK, nft_context_take_seq(ctx, 1));
        nftnl_set_elems_nlmsg_build_payload(nlh, s);
        r = request(ctx, nlh, elems_cb, &d);
        if (r >= 0 && d.n == 0)
                r = -ENOENT;
        if (r >= 0)
                *ret = d.f[0];
        free(d.f);
        return r;
}

/* The subnet's element of desktop_nets4: its first address and, flagged
 * as the end, the address after its last (none if it reaches
 * 255.255.255.255). */
static int subnet_interval(struct nftnl_set *s, uint32_t first, uint32_t last) {
        for (int i = 0; i < 2; i++) {
                struct nftnl_set_elem *e;
                uint32_t key = htonl(i == 0 ? first : last + 1);

                if (i == 1 && last == UINT32_MAX)
                        break;
                e = nftnl_set_elem_alloc();
                if (!e)
                        return -ENOMEM;
                nftnl_set_elem_set(e, NFTNL_SET_ELEM_KEY, &key, sizeof key);
                if (i == 1)
                        nftnl_set_elem_set_u32(e, NFTNL_SET_ELEM_FLAGS, NFT_SET_ELEM_INTERVAL_END);
                nftnl_set_elem_add(s, e);
        }
        return 0;
}

/* The subnet's element of intra_nets4 (saddr . daddr, both in it): a
 * range of concatenations, from first . first to last . last. */
static int subnet_pair(struct nftnl_set *s, uint32_t first, uint32_t last) {
        struct nftnl_set_elem *e = nftnl_set_elem_alloc();
        uint32_t key[2] = { htonl(first), htonl(first) }, key_end[2] = { htonl(last), htonl(last) };

        if (!e)
                return -ENOMEM;
        nftnl_set_elem_set(e, NFTNL_SET_ELEM_KEY, key, sizeof key);
        nftnl_set_elem_set(e, NFTNL_SET_ELEM_KEY_END, key_end, sizeof key_end);
        nftnl_set_elem_add(s, e);
        return 0;
}

static int gateway_elem(struct nftnl_set *s, uint32_t gateway) {
        struct nftnl_set_elem *e = nftnl_set_elem_alloc();
        uint32_t key = htonl(gateway);

        if (!e)
                return -ENOMEM;
        nftnl_set_elem_set(e, NFTNL_SET_ELEM_KEY, &key, sizeof key);
        nftnl_set_elem_add(s, e);
        return 0;
}

static int ifname_elem(struct nftnl_set *s, const char *port) {
        struct nftnl_set_elem *e = nftnl_set_elem_alloc();
        char key[IFNAMSIZ] = {};

        if (!e)
                return -ENOMEM;
        strncpy(key, port, sizeof key - 1);
        nftnl_set_elem_set(e, NFTNL_SET_ELEM_KEY, key, sizeof key);
        nftnl_set_elem_add(s, e);
        return 0;
}

static int service_elem(struct nftnl_set *s, const ConfigService *sv) {
        struct nftnl_set_elem *e = nftnl_set_elem_alloc();
        /* inet_proto . inet_service: each part in its own 32-bit word */
        uint8_t key[8] = { sv->protocol, 0, 0, 0, sv->port >> 8, sv->port & 0xff, 0, 0 };

        if (!e)
                return -ENOMEM;
        nftnl_set_elem_set(e, NFTNL_SET_ELEM_KEY, key, sizeof key);
        nftnl_set_elem_add(s, e);
        return 0;
}

/* A batch under construction: begin, then set messages, then end. */
typedef struct BatchWriter {
        char *buf;
        size_t size, len, n_msgs;
        uint32_t seq;   /* of the first set message */
} BatchWriter;

static int writer_begin(BatchWriter *w, size_t size, uint32_t seq) {
        struct nlmsghdr *nlh;

        *w = (BatchWriter) { .buf = calloc(1, size), .size = size, .seq = seq + 1 };
        if (!w->buf)
                return -ENOMEM;
        nlh = nftnl_batch_begin(w->buf, seq);
        w->len = NLMSG_ALIGN(nlh->nlmsg_len);
        return 0;
}

/* One message for set: its elements added (with NLM_F_CREATE: present
 * ones stay), deleted, or, when it has none to delete, all flushed. */
static void writer_put(BatchWriter *w, int family, NftOp op, struct nftnl_set *s) {
        struct nlmsghdr *nlh;

        assert(w->len + MSG_OVERHEAD <= w->size);
        nlh = nftnl_nlmsg_build_hdr(w->buf + w->len, op == NFT_OP_ADD ? NFT_MSG_NEWSETELEM : NFT_MSG_DELSETELEM,
                                    family, op == NFT_OP_ADD ? NLM_F_CREATE | NLM_F_ACK : NLM_F_ACK,
                                    w->seq + (uint32_t) w->n_msgs);
        nftnl_set_elems_nlmsg_build_payload(nlh, s);
        w->len += NLMSG_ALIGN(nlh->nlmsg_len);
        assert(w->len + MSG_OVERHEAD <= w->size);
        w->n_msgs++;
}

static void writer_end(BatchWriter *w, NftBatch *ret) {
        struct nlmsghdr *nlh = nftnl_batch_end(w->buf + w->len, w->seq + (uint32_t) w->n_msgs);

        w->len += NLMSG_ALIGN(nlh->nlmsg_len);
        *ret = (NftBatch) {
                .buf = TAKE_PTR(w->buf), .size = w->size, .len = w->len,
                .seq_first = w->seq, .n_msgs = w->n_msgs, .per_msg = 1,
        };
}

int nft_network_batch_build(NftBatch *b, NftOp op, const NftNetwork *n, uint32_t seq) {
        static const struct {
                int family;
                const char *set;
        } sets[] = {
                { NFPROTO_INET, NFT_SUBNET_SET },
                { NFPROTO_INET, NFT_INTRA_SET },
                { NFPROTO_INET, NFT_BRIDGE_SET },
                { NFPROTO_BRIDGE, NFT_GATEWAY_SET },
                { NFPROTO_BRIDGE, NFT_SEGMENT_PORT_SET },
        };
        uint32_t mask = ipv4_netmask(n->prefix), first = n->subnet & mask, last = n->subnet | ~mask;
        _cleanup_(freep) char *buf = NULL;
        BatchWriter w;
        int r;

        if (n->prefix > 32)
                return -EINVAL;
        /* one transaction: every set changes, or none */
        r = writer_begin(&w, 8192, seq);
        if (r < 0)
                return r;
        buf = w.buf;
        for (size_t i = 0; i < ELEMENTSOF(sets); i++) {
                _cleanup_(nftnl_set_freep) struct nftnl_set *s = NULL;

                /* a network without a bridge named has none to filter; one
                 * without a segment has no port, and its gateway no ARP to
                 * keep */
                if ((i == 2 && isempty(n->bridge)) || (i >= 3 && isempty(n->segment_port)))
                        continue;
                s = named_set_new(sets[i].set);
                if (!s)
                        return -ENOMEM;
                r = i == 0 ? subnet_interval(s, first, last)
                  : i == 1 ? subnet_pair(s, first, last)
                  : i == 2 ? ifname_elem(s, n->bridge)
                  : i == 3 ? gateway_elem(s, n->gateway)
                           : ifname_elem(s, n->segment_port);
                if (r < 0)
                        return r;
                writer_put(&w, sets[i].family, op, s);
        }
        TAKE_PTR(buf);
        writer_end(&w, b);
        return 0;
}

int nft_network_change(NftContext *ctx, NftOp op, const NftNetwork *n) {
        _cleanup_(nft_batch_done) NftBatch b = {};
        int r;

        r = nft_network_batch_build(&b, op, n, nft_context_take_seq(ctx, 7));
        if (r < 0)
                return r;
        return nft_batch_commit(ctx, &b, NULL);
}

int nft_config_batch_build(NftBatch *b, const VdeskConfig *c, uint32_t seq) {
        static const ConfigSubnet any = { .address = 0, .prefix = 0 };
        const ConfigSubnet *sources = c->n_allowed_sources > 0 ? c->allowed_sources : &any;
        size_t n_sources = MAX(c->n_allowed_sources, (size_t) 1);
        _cleanup_(freep) char *buf = NULL;
        BatchWriter w;
        int r;

        r = writer_begin(&w, 4 * MSG_OVERHEAD + (2 * CONFIG_LIST_MAX + CONFIG_LIST_MAX) * 64, seq);
        if (r < 0)
                return r;
        buf = w.buf;
        for (unsigned i = 0; i < 2; i++) {
                const char *name = i == 0 ? NFT_SOURCE_SET : NFT_SERVICE_SET;
                size_t n = i == 0 ? n_sources : c->n_host_services;
                _cleanup_(nftnl_set_freep) struct nftnl_set *flush = named_set_new(name);
                _cleanup_(nftnl_set_freep) struct nftnl_set *s = named_set_new(name);

                if (!flush || !s)
                        return -ENOMEM;
                /* what an earlier configuration put there goes */
                writer_put(&w, NFPROTO_INET, NFT_OP_DELETE, flush);
                if (n == 0)
                        continue;
                for (size_t k = 0; k < n; k++) {
                        uint32_t mask = i == 0 ? ipv4_netmask(sources[k].prefix) : 0;

                        r = i == 0 ? subnet_interval(s, sources[k].address & mask, sources[k].address | ~mask)
                                   : service_elem(s, &c->host_services[k]);
                        if (r < 0)
                                return r;
                }
                writer_put(&w, NFPROTO_INET, NFT_OP_ADD, s);
        }
        TAKE_PTR(buf);
        writer_end(&w, b);
        return 0;
}

int nft_config_apply(NftContext *ctx, const VdeskConfig *c) {
        _cleanup_(nft_batch_done) NftBatch b = {};
        int r;

        r = nft_config_batch_build(&b, c, nft_context_take_seq(ctx, 6));
        if (r < 0)
                return r;
        return nft_batch_commit(ctx, &b, NULL);
}
