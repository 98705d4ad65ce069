/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conf.h"

/* The one module of netd that speaks nf_tables. netd owns exactly the table
 * `inet vdesk`; the rules come from nft/vdesk.nft, per-desktop data are map
 * elements changed in netlink batches. */

/* An RDP forward: TCP to this host's port goes to address:guest_port. In the
 * kernel it is one element of the map `inet vdesk rdp4`, its comment naming
 * the desktop. netd keeps no copy: the map is the state, so the element's
 * type is this module's (forward.h holds the rules a forward obeys). */
typedef struct Forward {
        uint16_t port;
        uint32_t address;       /* host byte order */
        uint16_t guest_port;
        char desktop[64];
        char account[64];       /* for the journal only; the map keeps no account */
} Forward;

#define NFT_TABLE "vdesk"
#define NFT_FORWARD_MAP "rdp4"
#define NFT_SUBNET_SET "desktop_nets4"
#define NFT_INTRA_SET "intra_nets4"
#define NFT_GATEWAY_SET "gateways4"
#define NFT_SEGMENT_PORT_SET "segment_ports"
#define NFT_BRIDGE_SET "desktop_bridges"
#define NFT_SOURCE_SET "rdp_sources4"
#define NFT_SERVICE_SET "host_services"
#define NFT_RULESET_COMMENT_PREFIX "vdesk ruleset "

typedef enum NftOp {
        NFT_OP_ADD,
        NFT_OP_DELETE,
} NftOp;

typedef struct NftBatch {
        char *buf;
        size_t size;
        size_t len;
        uint32_t seq_first;     /* seq of the first element message */
        size_t n_msgs;          /* element messages (each acked) */
        size_t per_msg;         /* forwards per element message */
} NftBatch;

/* Elements per NEWSETELEM/DELSETELEM message: the nested attribute that holds
 * them has a 16-bit length. */
#define NFT_ELEMS_PER_MSG 256

/* Builds, without touching the kernel, one transaction that adds or deletes
 * n forwards: batch begin, ceil(n/256) element messages, batch end. Pure, so
 * that tests compare it with golden files. */
int nft_batch_build(NftBatch *b, NftOp op, const Forward *f, size_t n, uint32_t seq);
void nft_batch_done(NftBatch *b);

/* Renders a batch as text (message types, flags and each element), for
 * golden files and debugging. */
int nft_batch_dump(const NftBatch *b, char **ret);

typedef struct NftContext NftContext;

int nft_context_new(NftContext **ret);
NftContext *nft_context_free(NftContext *ctx);

/* Reserves n sequence numbers for a batch built by the caller. */
uint32_t nft_context_take_seq(NftContext *ctx, uint32_t n);

/* Sends a batch as one transaction. On failure returns the kernel's error
 * and, if ret_index is given, the index of the first forward of the message
 * that failed (all of the batch is then undone by the kernel). */
int nft_batch_commit(NftContext *ctx, const NftBatch *b, size_t *ret_index);

/* Returns the ruleset version the table carries in its comment, 0 if the
 * table is absent, -EPROTO if it exists without a vdesk comment. */
int nft_table_version(NftContext *ctx, unsigned *ret_version);

/* Replaces the table with the ruleset file in one transaction (an absent
 * table is created). Elements do not survive: the caller re-adds them. On a
 * parse error the message is in *ret_error. */
int nft_ruleset_load(const char *path, char **ret_error);

/* Reads the version from the ruleset file's `comment "vdesk ruleset N"`. */
int nft_ruleset_file_version(const char *path, unsigned *ret_version);

/* Lists the map's elements. *ret is malloc'ed. */
int nft_forwards_list(NftContext *ctx, Forward **ret, size_t *ret_n);

/* Fetches the element for port; -ENOENT if there is none. */
int nft_forward_get(NftContext *ctx, uint16_t port, Forward *ret);

/* A desktop network's elements: its subnet in the set whose egress is
 * masqueraded and, as a pair with itself, in the set of traffic within one
 * network; its bridge in the set whose traffic to the host is filtered;
 * for a department network with a segment, also its gateway and its
 * segment's port in the bridge table's sets, which keep the gateway's ARP
 * off the segment. */
typedef struct NftNetwork {
        uint32_t subnet;
        unsigned prefix;
        uint32_t gateway;
        const char *bridge;             /* NULL or "": none */
        const char *segment_port;       /* NULL or "": none */
} NftNetwork;

/* Builds, without touching the kernel, the transaction that adds (what is
 * there already stays, no error) or deletes (-ENOENT if an element is
 * absent) a network's elements. Pure, for golden files. */
int nft_network_batch_build(NftBatch *b, NftOp op, const NftNetwork *n, uint32_t seq);
/* ... and sends it. */
int nft_network_change(NftContext *ctx, NftOp op, const NftNetwork *n);

/* Builds the transaction that makes the sets of the configuration hold
 * exactly what it says: rdp_sources4 ([Forward] AllowedSources=, 0.0.0.0/0
 * if it lists none) and host_services ([Network] HostServices=), each
 * flushed and filled. Pure, for golden files. */
int nft_config_batch_build(NftBatch *b, const VdeskConfig *c, uint32_t seq);
/* ... and sends it. */
int nft_config_apply(NftContext *ctx, const VdeskConfig *c);
