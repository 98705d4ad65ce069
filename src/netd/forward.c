/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include "conntrack.h"
#include "forward.h"
#include "log.h"
#include "macro.h"
#include "message-id.h"
#include "nft.h"
#include "util.h"

/* Batches above this size are journaled as one summary entry: journald
 * caps the fields of an entry, and ten thousand entries for one
 * transaction would drown the audit trail. */
#define LOG_EACH_MAX 64

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

        if (config_rdp_port_check(c, f->port, NULL) < 0)
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

void forward_log(const Forward *f, bool added, uid_t actor) {
        char a[16];

        ipv4_format(f->address, a);
        log_event(LOG_INFO, added ? MID_FORWARD_ADDED : MID_FORWARD_REMOVED,
                  "VDESK_DESKTOP=%s", f->desktop,
                  "VDESK_ACCOUNT=%s", f->account,
                  "VDESK_PORT=%u", f->port,
                  "VDESK_GUEST_ADDRESS=%s", a,
                  "VDESK_GUEST_PORT=%u", f->guest_port,
                  "VDESK_ACTOR_UID=%u", (unsigned) actor,
                  "MESSAGE=RDP forward %s: port %u -> %s:%u (desktop %s)",
                  added ? "added" : "removed", f->port, a, f->guest_port,
                  f->desktop[0] ? f->desktop : "?");
}

void forward_log_refused(const Forward *f, int error, const char *reason, uid_t actor) {
        char a[16];

        ipv4_format(f->address, a);
        if (error != -EPERM) {
                log_debug("Forward of %s to %s:%u is malformed: %s", f->desktop, a, f->guest_port, reason);
                return;
        }
        log_event(LOG_WARNING, MID_FORWARD_REFUSED,
                  "VDESK_DESKTOP=%s", f->desktop,
                  "VDESK_ACCOUNT=%s", f->account,
                  "VDESK_PORT=%u", f->port,
                  "VDESK_GUEST_ADDRESS=%s", a,
                  "VDESK_GUEST_PORT=%u", f->guest_port,
                  "VDESK_REASON=%s", reason,
                  "VDESK_ACTOR_UID=%u", (unsigned) actor,
                  "MESSAGE=RDP forward refused: port %u -> %s:%u (desktop %s): %s",
                  f->port, a, f->guest_port, f->desktop, reason);
}

static void log_added(const Forward *f, size_t n, uid_t actor) {
        if (n <= LOG_EACH_MAX) {
                for (size_t i = 0; i < n; i++)
                        forward_log(&f[i], true, actor);
                return;
        }
        log_event(LOG_INFO, MID_FORWARD_ADDED,
                  "VDESK_FORWARD_COUNT=%zu", n,
                  "VDESK_PORT_FIRST=%u", f[0].port,
                  "VDESK_PORT_LAST=%u", f[n - 1].port,
                  "VDESK_ACTOR_UID=%u", (unsigned) actor,
                  "MESSAGE=%zu RDP forwards added in one transaction (ports %u ... %u)",
                  n, f[0].port, f[n - 1].port);
}

static int validate(Forwards *fw, const Forward *f, const char **ret_reason) {
        const Segments *segs = fw->segments;

        return forward_validate(f, fw->config, segs ? segs->served : NULL, segs ? segs->n_served : 0, ret_reason);
}

int forwards_init(Forwards *fw, const VdeskConfig *config, const Segments *segments, const char *ruleset_path) {
        int r;

        *fw = (Forwards) { .config = config, .segments = segments };
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
        forwards_remember_changes(fw, false);
}

void forwards_remember_changes(Forwards *fw, bool on) {
        fw->remember = on;
        if (on)
                return;
        fw->changed = mfree(fw->changed);
        fw->n_changed = 0;
}

static void remember(Forwards *fw, const Forward *f, size_t n) {
        uint16_t *t;

        if (!fw->remember)
                return;
        t = reallocarray(fw->changed, fw->n_changed + n, sizeof *t);
        if (!t)
                return;         /* at worst reconcile redoes these ports */
        fw->changed = t;
        for (size_t i = 0; i < n; i++)
                fw->changed[fw->n_changed++] = f[i].port;
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

/* Each forward valid, and no port twice: two entries for one port in one
 * batch would let the kernel keep one of them silently. */
static int check_batch(Forwards *fw, const Forward *f, size_t n, size_t *ret_index, const char **ret_reason) {
        _cleanup_(freep) uint8_t *seen = NULL;
        int r;

        for (size_t i = 0; i < n; i++) {
                r = validate(fw, &f[i], ret_reason);
                if (r < 0) {
                        *ret_index = i;
                        return r;
                }
        }
        if (n < 2)
                return 0;
        /* a bitmap of the 64 Ki ports finds them */
        seen = calloc(65536 / 8, 1);
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
        return 0;
}

int forwards_add(Forwards *fw, const Forward *f, size_t n, uid_t actor, size_t *ret_index, const char **ret_reason) {
        size_t idx = 0;
        int r;

        r = check_batch(fw, f, n, &idx, ret_reason);
        if (r == -EPERM)
                forward_log_refused(&f[idx], r, *ret_reason, actor);
        if (r < 0) {
                *ret_index = idx;
                return r;
        }

        r = commit(fw, NFT_OP_ADD, f, n, &idx);
        if (r == -ENOENT) {
                /* The table went away under us (someone flushed the ruleset):
                 * put it back once, then retry. */
                _cleanup_(freep) char *e = NULL;

                log_warning("Table inet vdesk is missing, loading it again.");
                if (forwards_ensure_ruleset(fw, &e) >= 0)
                        r = commit(fw, NFT_OP_ADD, f, n, &idx);
        }
        if (r < 0) {
                *ret_index = idx;
                *ret_reason = NULL;
                return r;
        }
        remember(fw, f, n);
        log_added(f, n, actor);
        return 0;
}

int forwards_remove(Forwards *fw, uint16_t port, uint32_t address, uid_t actor) {
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
        remember(fw, &cur, 1);
        forward_log(&cur, false, actor);
        return 0;
}

int forwards_list(Forwards *fw, Forward **ret, size_t *ret_n) {
        return nft_forwards_list(fw->nft, ret, ret_n);
}

int forwards_activity(Forwards *fw, Forward **ret, unsigned **ret_connections, size_t *ret_n) {
        _cleanup_(freep) Forward *f = NULL;
        unsigned *connections = NULL;
        size_t n = 0;
        int r;

        r = forwards_list(fw, &f, &n);
        if (r < 0)
                return r;
        r = conntrack_count_forwards(f, n, &connections);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(f);
        *ret_connections = connections;
        *ret_n = n;
        return 0;
}

static const Forward *find_port(const Forward *f, size_t n, uint16_t port) {
        for (size_t i = 0; i < n; i++)
                if (f[i].port == port)
                        return &f[i];
        return NULL;
}

static bool port_changed(const Forwards *fw, uint16_t port) {
        for (size_t i = 0; i < fw->n_changed; i++)
                if (fw->changed[i] == port)
                        return true;
        return false;
}

int forwards_reconcile(Forwards *fw, const Forward *desired, size_t n_desired) {
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
                        forward_log_refused(&desired[i], r, reason, 0);
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

                if (port_changed(fw, cur[i].port))
                        continue;
                if (!d || d->address != cur[i].address || d->guest_port != cur[i].guest_port)
                        del[n_del++] = cur[i];
        }
        for (size_t i = 0; i < n_desired; i++) {
                const Forward *c = find_port(cur, n_cur, desired[i].port);

                if (port_changed(fw, desired[i].port) || find_port(add, n_add, desired[i].port))
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
