/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include "forward.h"
#include "log.h"
#include "macro.h"
#include "nft.h"
#include "util.h"

/* a guest's address in the network: not the gateway (this host), nor the
 * subnet's own or its broadcast address */
static bool guest_of(uint32_t a, uint32_t subnet, unsigned prefix, uint32_t gateway) {
        uint32_t mask = ipv4_netmask(prefix);

        return (a & mask) == (subnet & mask) && a != gateway && prefix < 31 &&
                (a & ~mask) != 0 && (a & ~mask) != ~mask;
}

int forward_validate(const Forward *f, const VdeskConfig *c, const ServedNetwork *served, size_t n_served,
                     const char **ret_reason) {
        uint32_t a = f->address, gw = 0;
        bool inside;

        if (f->port < c->port_min || f->port > c->port_max)
                *ret_reason = "port is outside the configured forward range";
        else if (!ipv4_is_unicast(a))
                *ret_reason = "address is not a unicast guest address";
        else if (f->guest_port == 0)
                *ret_reason = "guest_port is 0";
        else if (!name_is_valid(f->desktop))
                *ret_reason = "desktop is not a valid desktop name";
        else {
                if (!config_guest_port_allowed(c, f->guest_port)) {
                        *ret_reason = "guest_port is not one of [Forward] AllowedGuestPorts=";
                        return -EPERM;
                }
                inside = ipv4_parse(c->gateway, &gw) >= 0 && guest_of(a, gw, c->prefix, gw);
                for (size_t i = 0; !inside && i < n_served; i++)
                        inside = guest_of(a, served[i].spec.subnet, served[i].spec.prefix, served[i].spec.gateway);
                if (!inside) {
                        *ret_reason = "address is not a guest address of a desktop network of this host";
                        return -EPERM;
                }
                return 0;
        }
        return -EINVAL;
}

static int validate(Forwards *fw, const Forward *f, const char **ret_reason) {
        return forward_validate(f, fw->config, fw->served ? *fw->served : NULL, fw->n_served ? *fw->n_served : 0,
                                ret_reason);
}

int forwards_init(Forwards *fw, const VdeskConfig *config, const ServedNetwork *const *served,
                  const size_t *n_served, const char *ruleset_path) {
        int r;

        *fw = (Forwards) { .config = config, .served = served, .n_served = n_served };
        fw->ruleset_path = strdup(ruleset_path);
        if (!fw->ruleset_path)
                return -ENOMEM;
        r = nft_ruleset_file_version(ruleset_path, &fw->ruleset_version);
        if (r < 0)
                return log_debug_errno(r, "%s has no 'comment \"vdesk ruleset N\"': %m", ruleset_path);
        r = nft_context_new(&fw->nft);
        if (r < 0)
                return r;
        return 0;
}

void forwards_done(Forwards *fw) {
        fw->nft = nft_context_free(fw->nft);
        free(fw->ruleset_path);
        fw->ruleset_path = NULL;
}

int forwards_ensure_ruleset(Forwards *fw, char **ret_error) {
        unsigned v = 0;
        int r;

        r = nft_table_version(fw->nft, &v);
        if (r < 0 && r != -EPROTO)
                return r;
        if (r >= 0 && v == fw->ruleset_version)
                return 0;
        r = nft_ruleset_load(fw->ruleset_path, ret_error);
        if (r < 0)
                return r;
        return 1;
}

static int commit(Forwards *fw, NftOp op, const Forward *f, size_t n, size_t *ret_index) {
        size_t n_msgs = (n + NFT_ELEMS_PER_MSG - 1) / NFT_ELEMS_PER_MSG;
        _cleanup_(nft_batch_done) NftBatch b = {};
        int r;

        r = nft_batch_build(&b, op, f, n, nft_context_take_seq(fw->nft, (uint32_t) n_msgs + 2));
        if (r < 0)
                return r;
        return nft_batch_commit(fw->nft, &b, ret_index);
}

int forwards_add(Forwards *fw, const Forward *f, size_t n, size_t *ret_index, const char **ret_reason) {
        size_t idx = 0;
        int r;

        for (size_t i = 0; i < n; i++) {
                r = validate(fw, &f[i], ret_reason);
                if (r < 0) {
                        *ret_index = i;
                        return r;
                }
        }
        /* Two entries for one port in one batch would let the kernel keep
         * one of them silently: a bitmap of the 64 Ki ports finds them. */
        if (n > 1) {
                _cleanup_(freep) uint8_t *seen = calloc(65536 / 8, 1);

                if (!seen)
                        return -ENOMEM;
                for (size_t i = 0; i < n; i++) {
                        uint16_t p = f[i].port;
                        if (seen[p / 8] & (1u << (p % 8))) {
                                *ret_index = i;
                                *ret_reason = "port appears twice in the batch";
                                return -EINVAL;
                        }
                        seen[p / 8] |= (uint8_t) (1u << (p % 8));
                }
        }

        r = commit(fw, NFT_OP_ADD, f, n, &idx);
        if (r < 0) {
                *ret_index = idx;
                *ret_reason = NULL;
        }
        return r;
}

int forwards_remove(Forwards *fw, uint16_t port, uint32_t address, Forward *ret_removed) {
        Forward cur;
        int r;

        /* netd is single-threaded and the only writer of its table, so the
         * element cannot change between this read and the delete. */
        r = nft_forward_get(fw->nft, port, &cur);
        if (r < 0)
                return r;
        if (address != 0 && cur.address != address)
                return -EBUSY;
        r = commit(fw, NFT_OP_DELETE, &cur, 1, NULL);
        if (r < 0)
                return r;
        if (ret_removed)
                *ret_removed = cur;
        return 0;
}

int forwards_list(Forwards *fw, Forward **ret, size_t *ret_n) {
        return nft_forwards_list(fw->nft, ret, ret_n);
}

static const Forward *find_port(const Forward *f, size_t n, uint16_t port) {
        for (size_t i = 0; i < n; i++)
                if (f[i].port == port)
                        return &f[i];
        return NULL;
}

int forwards_reconcile(Forwards *fw, const Forward *desired, size_t n_desired,
                       const uint16_t *keep, size_t n_keep, ForwardRefusedFunc refused) {
        _cleanup_(freep) Forward *cur = NULL, *del = NULL, *add = NULL, *valid = NULL;
        size_t n_cur = 0, n_del = 0, n_add = 0, n_valid = 0;
        const char *reason;
        int r;

        r = forwards_list(fw, &cur, &n_cur);
        if (r < 0)
                return r;
        del = calloc(n_cur + 1, sizeof *del);
        add = calloc(n_desired + 1, sizeof *add);
        valid = calloc(n_desired + 1, sizeof *valid);
        if (!del || !add || !valid)
                return -ENOMEM;

        /* A refused forward is as if no desktop wanted it: one the map
         * holds (added before the rule was) goes. */
        for (size_t i = 0; i < n_desired; i++) {
                r = validate(fw, &desired[i], &reason);
                if (r < 0) {
                        if (refused)
                                refused(&desired[i], r, reason);
                        continue;
                }
                valid[n_valid++] = desired[i];
        }
        desired = valid;
        n_desired = n_valid;

        /* Reconcile runs once at start-up with tens to thousands of entries;
         * the quadratic scan is simpler than a hash and fast enough there. */
        for (size_t i = 0; i < n_cur; i++) {
                const Forward *d = find_port(desired, n_desired, cur[i].port);
                bool kept = false;

                for (size_t k = 0; k < n_keep; k++)
                        kept = kept || keep[k] == cur[i].port;
                if (kept)
                        continue;
                if (!d || d->address != cur[i].address || d->guest_port != cur[i].guest_port)
                        del[n_del++] = cur[i];
        }
        for (size_t i = 0; i < n_desired; i++) {
                const Forward *c = find_port(cur, n_cur, desired[i].port);
                bool kept = false;

                for (size_t k = 0; k < n_keep; k++)
                        kept = kept || keep[k] == desired[i].port;
                if (kept)
                        continue;
                if (find_port(add, n_add, desired[i].port))
                        continue;
                if (!c || c->address != desired[i].address || c->guest_port != desired[i].guest_port)
                        add[n_add++] = desired[i];
        }

        if (n_del > 0) {
                r = commit(fw, NFT_OP_DELETE, del, n_del, NULL);
                if (r < 0)
                        return r;
        }
        if (n_add > 0) {
                r = commit(fw, NFT_OP_ADD, add, n_add, NULL);
                if (r < 0)
                        return r;
        }
        return (int) (n_del + n_add);
}

int forwards_apply_config(Forwards *fw) {
        uint32_t gw;
        int r;

        if (ipv4_parse(fw->config->gateway, &gw) < 0)
                return -EINVAL;
        r = nft_network_change(fw->nft, NFT_OP_ADD, &(NftNetwork) {
                .subnet = gw, .prefix = fw->config->prefix, .bridge = fw->config->bridge,
        });
        if (r < 0)
                return r;
        return nft_config_apply(fw->nft, fw->config);
}
