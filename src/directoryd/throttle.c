/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <arpa/inet.h>
#include <netinet/in.h>

#include "sha256.h"
#include "throttle.h"
#include "util.h"

static uint64_t slot_usec(const ThrottlePolicy *p) {
        return MAX(p->window_usec / THROTTLE_SLOTS, 1);
}

ThrottleVerdict throttle_decide(const ThrottleState *s, bool failure, uint64_t now, const ThrottlePolicy *p,
                                ThrottleState *ret_state, unsigned *ret_failed) {
        ThrottleState n = *s;
        uint64_t slot = now / slot_usec(p);
        unsigned total = 0;

        if (p->max_failed == 0 || n.blocked_until > now) {
                *ret_state = n;
                *ret_failed = 0;
                return p->max_failed == 0 ? THROTTLE_OPEN : THROTTLE_BLOCKED;
        }
        /* A block that ended left nothing counted. */
        n.blocked_until = 0;
        /* Slots that left the window are emptied as the window slides on.
         * The clock does not go back; should it, the newest slot stays. */
        if (slot > n.slot) {
                for (uint64_t i = n.slot + 1; i <= slot && i <= n.slot + THROTTLE_SLOTS; i++)
                        n.failed[i % THROTTLE_SLOTS] = 0;
                n.slot = slot;
        }
        if (failure && n.failed[n.slot % THROTTLE_SLOTS] < UINT32_MAX)
                n.failed[n.slot % THROTTLE_SLOTS]++;
        /* at most max_failed: a block empties the slots */
        for (size_t i = 0; i < THROTTLE_SLOTS; i++)
                total += n.failed[i];
        *ret_failed = total;
        if (!failure) {
                *ret_state = n;
                return THROTTLE_OPEN;
        }
        if (total >= p->max_failed) {
                /* Counting starts again when the block ends. */
                memset(n.failed, 0, sizeof n.failed);
                n.blocked_until = now + p->block_usec;
                *ret_state = n;
                return THROTTLE_NOW_BLOCKED;
        }
        *ret_state = n;
        return THROTTLE_COUNTED;
}

int throttle_source_from_address(const char *s, ThrottleSource *ret) {
        ThrottleSource src = {};
        struct in6_addr a6;
        struct in_addr a4;
        char buf[INET6_ADDRSTRLEN];

        if (inet_pton(AF_INET6, s, &a6) == 1) {
                if (IN6_IS_ADDR_V4MAPPED(&a6))
                        memcpy(&a4, &a6.s6_addr[12], sizeof a4);
                else {
                        /* A host of IPv6 has a /64 to itself (SLAAC,
                         * privacy addresses): counted per address, it
                         * would never run out of sources. */
                        if (!inet_ntop(AF_INET6, &a6, src.name, sizeof src.name))
                                return -EINVAL;
                        memset(&a6.s6_addr[8], 0, 8);
                        if (!inet_ntop(AF_INET6, &a6, buf, sizeof buf))
                                return -EINVAL;
                        snprintf(src.key, sizeof src.key, "%s/64", buf);
                        src.address = true;
                        *ret = src;
                        return 0;
                }
        } else if (inet_pton(AF_INET, s, &a4) != 1)
                return -EINVAL;
        if (!inet_ntop(AF_INET, &a4, src.name, sizeof src.name))
                return -EINVAL;
        memcpy(src.key, src.name, sizeof src.key);
        src.address = true;
        *ret = src;
        return 0;
}

void throttle_pair_key(const ThrottleSource *source, const char *id, char ret[static THROTTLE_SOURCE_MAX]) {
        char buf[THROTTLE_SOURCE_MAX + NAME_MAX_LEN + 2], hex[SHA256_HEX_SIZE];
        int n;

        n = snprintf(buf, sizeof buf, "%s\n%s", source->key, id);
        sha256_hex(buf, n > 0 ? MIN((size_t) n, sizeof buf - 1) : 0, hex);
        snprintf(ret, THROTTLE_SOURCE_MAX, "pair %.32s", hex);
}

void throttle_source_from_uid(uid_t uid, ThrottleSource *ret) {
        ThrottleSource src = {};

        snprintf(src.name, sizeof src.name, "uid %u", (unsigned) uid);
        memcpy(src.key, src.name, sizeof src.key);
        *ret = src;
}

typedef struct ThrottleEntry ThrottleEntry;
struct ThrottleEntry {
        ThrottleEntry *hash_next;
        ThrottleEntry *prev, *next;     /* in its list, by when it was last counted */
        uint64_t expires;               /* from then on it holds nothing */
        bool blocked;                   /* in which list */
        ThrottleState state;
        char key[THROTTLE_SOURCE_MAX];
};

/* Oldest first. Within a list, expiry follows the order in which entries
 * were last counted (the policy does not change), so the expired ones are
 * at the head. Blocked sources have a list of their own, so that a flood
 * of new sources evicts counts before it evicts a block. */
typedef struct ThrottleList {
        ThrottleEntry *head, *tail;
} ThrottleList;

struct Throttle {
        ThrottlePolicy policy;
        size_t max_entries, n_entries;
        ThrottleEntry **buckets;
        size_t n_buckets;               /* a power of two */
        ThrottleList counting, blocked;
        /* keys the hash: sources are chosen by whoever signs in, and must
         * not be able to pile up in one bucket */
        uint8_t seed[16];
};

int throttle_new(const ThrottlePolicy *p, size_t max_entries, Throttle **ret) {
        _cleanup_(throttle_freep) Throttle *t = NULL;

        if (max_entries < 1)
                return -EINVAL;
        t = new0(Throttle, 1);
        if (!t)
                return -ENOMEM;
        t->policy = *p;
        t->max_entries = max_entries;
        if (p->max_failed > 0) {
                t->n_buckets = 16;
                while (t->n_buckets < max_entries)
                        t->n_buckets <<= 1;
                t->buckets = new0(ThrottleEntry *, t->n_buckets);
                if (!t->buckets)
                        return -ENOMEM;
                if (random_bytes(t->seed, sizeof t->seed) < 0)
                        return -EIO;
        }
        *ret = TAKE_PTR(t);
        return 0;
}

static void list_free(ThrottleList *l) {
        while (l->head) {
                ThrottleEntry *e = l->head;

                l->head = e->next;
                free(e);
        }
        l->tail = NULL;
}

Throttle *throttle_free(Throttle *t) {
        if (!t)
                return NULL;
        list_free(&t->counting);
        list_free(&t->blocked);
        free(t->buckets);
        free(t);
        return NULL;
}

size_t throttle_size(const Throttle *t) {
        return t->n_entries;
}

static ThrottleEntry **bucket_of(Throttle *t, const char *key) {
        uint8_t buf[sizeof t->seed + THROTTLE_SOURCE_MAX], digest[SHA256_DIGEST_SIZE];
        size_t l = strnlen(key, THROTTLE_SOURCE_MAX);
        uint64_t h;

        memcpy(buf, t->seed, sizeof t->seed);
        memcpy(buf + sizeof t->seed, key, l);
        sha256(buf, sizeof t->seed + l, digest);
        memcpy(&h, digest, sizeof h);
        return &t->buckets[h & (t->n_buckets - 1)];
}

static ThrottleEntry *lookup(Throttle *t, const char *key) {
        for (ThrottleEntry *e = *bucket_of(t, key); e; e = e->hash_next)
                if (streq(e->key, key))
                        return e;
        return NULL;
}

static ThrottleList *list_of(Throttle *t, const ThrottleEntry *e) {
        return e->blocked ? &t->blocked : &t->counting;
}

static void list_unlink(ThrottleList *l, ThrottleEntry *e) {
        if (e->prev)
                e->prev->next = e->next;
        else
                l->head = e->next;
        if (e->next)
                e->next->prev = e->prev;
        else
                l->tail = e->prev;
        e->prev = e->next = NULL;
}

static void list_append(ThrottleList *l, ThrottleEntry *e) {
        e->prev = l->tail;
        e->next = NULL;
        if (l->tail)
                l->tail->next = e;
        else
                l->head = e;
        l->tail = e;
}

static void entry_remove(Throttle *t, ThrottleEntry *e) {
        for (ThrottleEntry **p = bucket_of(t, e->key); *p; p = &(*p)->hash_next)
                if (*p == e) {
                        *p = e->hash_next;
                        break;
                }
        list_unlink(list_of(t, e), e);
        t->n_entries--;
        free(e);
}

static void evict_expired(Throttle *t, uint64_t now) {
        while (t->counting.head && t->counting.head->expires <= now)
                entry_remove(t, t->counting.head);
        while (t->blocked.head && t->blocked.head->expires <= now)
                entry_remove(t, t->blocked.head);
}

uint64_t throttle_check(Throttle *t, const char *key, uint64_t now) {
        ThrottleEntry *e;

        if (t->policy.max_failed == 0)
                return 0;
        evict_expired(t, now);
        e = lookup(t, key);
        return e && e->state.blocked_until > now ? e->state.blocked_until - now : 0;
}

int throttle_fail(Throttle *t, const char *key, uint64_t now, ThrottleVerdict *ret_verdict, unsigned *ret_failed) {
        ThrottleEntry *e;
        ThrottleState n;
        ThrottleVerdict v;
        unsigned failed;

        if (t->policy.max_failed == 0) {
                *ret_verdict = THROTTLE_OPEN;
                *ret_failed = 0;
                return 0;
        }
        if (strlen(key) >= THROTTLE_SOURCE_MAX)
                return -EINVAL;
        evict_expired(t, now);
        e = lookup(t, key);
        if (!e) {
                ThrottleEntry **b;

                if (t->n_entries >= t->max_entries)
                        entry_remove(t, t->counting.head ?: t->blocked.head);
                e = new0(ThrottleEntry, 1);
                if (!e)
                        return -ENOMEM;
                strcpy(e->key, key);
                b = bucket_of(t, key);
                e->hash_next = *b;
                *b = e;
                list_append(&t->counting, e);
                t->n_entries++;
        }
        v = throttle_decide(&e->state, true, now, &t->policy, &n, &failed);
        if (v != THROTTLE_BLOCKED) {
                e->state = n;
                list_unlink(list_of(t, e), e);
                e->blocked = n.blocked_until > 0;
                e->expires = e->blocked ? n.blocked_until : (n.slot + THROTTLE_SLOTS) * slot_usec(&t->policy);
                list_append(list_of(t, e), e);
        }
        *ret_verdict = v;
        *ret_failed = failed;
        return 0;
}
