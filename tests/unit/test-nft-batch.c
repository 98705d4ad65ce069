/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* The netlink transactions netd sends, compared with golden files. Set
 * VDESK_UPDATE_GOLDEN=1 to rewrite them after a deliberate change (and read
 * the diff). */

#include "forward.h"
#include "macro.h"
#include "nft.h"
#include "util.h"
#include "tests.h"

static const char *golden_dir;

static void compare(const char *name, const NftBatch *b) {
        _cleanup_(freep) char *dump = NULL, *want = NULL, *path = NULL;

        CHECK_INT(nft_batch_dump(b, &dump), 0);
        CHECK(asprintf(&path, "%s/%s", golden_dir, name) > 0);
        if (getenv("VDESK_UPDATE_GOLDEN")) {
                FILE *f = fopen(path, "we");
                CHECK(f != NULL);
                if (f) {
                        fputs(dump, f);
                        fclose(f);
                }
                return;
        }
        CHECK_INT(read_full_file(path, 1 << 24, &want, NULL), 0);
        CHECK_STR(dump, want);
}

static Forward fwd(uint16_t port, uint32_t addr, const char *desk) {
        Forward f = { .port = port, .address = addr, .guest_port = 3389 };
        snprintf(f.desktop, sizeof f.desktop, "%s", desk);
        return f;
}

static void test_add_two(void) {
        _cleanup_(nft_batch_done) NftBatch b = {};
        Forward f[] = { fwd(50001, 0x0a14000f, "alice-desk"), fwd(50002, 0x0a140010, "bob-desk") };

        CHECK_INT(nft_batch_build(&b, NFT_OP_ADD, f, 2, 1000), 0);
        CHECK_INT(b.n_msgs, 1);
        CHECK_INT(b.seq_first, 1001);
        compare("add-two.txt", &b);
}

static void test_delete_one(void) {
        _cleanup_(nft_batch_done) NftBatch b = {};
        Forward f = fwd(50001, 0x0a14000f, "alice-desk");

        CHECK_INT(nft_batch_build(&b, NFT_OP_DELETE, &f, 1, 7), 0);
        compare("delete-one.txt", &b);
}

static void test_split(void) {
        _cleanup_(nft_batch_done) NftBatch b = {};
        _cleanup_(freep) Forward *f = calloc(600, sizeof *f);
        _cleanup_(freep) char *dump = NULL;
        size_t n_new = 0;

        CHECK(f != NULL);
        for (unsigned i = 0; i < 600; i++)
                f[i] = fwd((uint16_t) (50000 + i), 0x0a140000 + i, "d");
        CHECK_INT(nft_batch_build(&b, NFT_OP_ADD, f, 600, 1), 0);
        /* 256 elements per message: 3 messages, one transaction */
        CHECK_INT(b.n_msgs, 3);
        CHECK_INT(nft_batch_dump(&b, &dump), 0);
        for (const char *p = dump; (p = strstr(p, "newsetelem")); p++)
                n_new++;
        CHECK_INT(n_new, 3);
        CHECK(strncmp(dump, "batch-begin", 11) == 0);
        CHECK(strstr(dump, "batch-end") != NULL);
        CHECK(b.len <= b.size);
}

static void test_empty(void) {
        NftBatch b = {};

        CHECK_INT(nft_batch_build(&b, NFT_OP_ADD, NULL, 0, 1), -EINVAL);
}

static void test_network(void) {
        _cleanup_(nft_batch_done) NftBatch up = {}, down = {}, plain = {};

        /* a department network with a VXLAN segment: five sets */
        CHECK_INT(nft_network_batch_build(&up, NFT_OP_ADD, &(NftNetwork) {
                .subnet = 0x0a1e0000, .prefix = 24, .gateway = 0x0a1e0001,
                .bridge = "vdbr1", .segment_port = "vdvx3001" }, 100), 0);
        CHECK_INT(up.n_msgs, 5);
        compare("network-add.txt", &up);
        CHECK_INT(nft_network_batch_build(&down, NFT_OP_DELETE, &(NftNetwork) {
                .subnet = 0x0a1e0000, .prefix = 24, .gateway = 0x0a1e0001,
                .bridge = "vdbr1", .segment_port = "vdvx3001" }, 100), 0);
        compare("network-delete.txt", &down);
        /* the host's own network: its subnet and bridge, no segment */
        CHECK_INT(nft_network_batch_build(&plain, NFT_OP_ADD, &(NftNetwork) {
                .subnet = 0x0a140001, .prefix = 24, .bridge = "vdeskbr0" }, 1), 0);
        CHECK_INT(plain.n_msgs, 3);
        compare("network-host.txt", &plain);
}

static void test_config_sets(void) {
        _cleanup_(config_done) VdeskConfig c = {};
        _cleanup_(nft_batch_done) NftBatch any = {}, some = {};
        _cleanup_(freep) char *err = NULL;

        /* no AllowedSources: anyone (0.0.0.0/0), and no host services */
        CHECK_INT(config_defaults(&c), 0);
        CHECK_INT(nft_config_batch_build(&any, &c, 1), 0);
        CHECK_INT(any.n_msgs, 3);
        compare("config-default.txt", &any);

        CHECK_INT(config_parse_text(&c, "[Forward]\nAllowedSources=192.0.2.0/24 198.51.100.7\n"
                                        "[Network]\nHostServices=123/udp 8443/tcp\n", "t.conf", &err), 0);
        CHECK_INT(nft_config_batch_build(&some, &c, 1), 0);
        CHECK_INT(some.n_msgs, 4);
        compare("config-sources.txt", &some);
}

static void test_validate(void) {
        _cleanup_(config_done) VdeskConfig c = {};
        const char *why = NULL;
        Forward f = fwd(50001, 0x0a14000f, "alice-desk");
        ServedNetwork sales = { .bridge = "vdbr1", .spec = { .name = "sales", .subnet = 0x0a1e0000, .prefix = 24,
                                                             .gateway = 0x0a1e0001 } };

        config_defaults(&c);
        CHECK_INT(forward_validate(&f, &c, NULL, 0, &why), 0);
        f.port = 40000;
        CHECK_INT(forward_validate(&f, &c, NULL, 0, &why), -EINVAL);
        CHECK_STR(why, "port is outside the configured forward range");
        /* the range's edges (config_rdp_port_check()) */
        f.port = 49999;
        CHECK_INT(forward_validate(&f, &c, NULL, 0, &why), -EINVAL);
        f.port = 50000;
        CHECK_INT(forward_validate(&f, &c, NULL, 0, &why), 0);
        f.port = 59999;
        CHECK_INT(forward_validate(&f, &c, NULL, 0, &why), 0);
        f.port = 60000;
        CHECK_INT(forward_validate(&f, &c, NULL, 0, &why), -EINVAL);
        f = fwd(50001, 0x7f000001, "x");
        CHECK_INT(forward_validate(&f, &c, NULL, 0, &why), -EINVAL);
        CHECK_STR(why, "address is not a unicast guest address");
        f = fwd(50001, 0xe0000001, "x");
        CHECK_INT(forward_validate(&f, &c, NULL, 0, &why), -EINVAL);
        f = fwd(50001, 0x0a14000f, "");
        CHECK_INT(forward_validate(&f, &c, NULL, 0, &why), -EINVAL);
        CHECK_STR(why, "desktop is not a valid desktop name");
        f = fwd(50001, 0x0a14000f, "x");
        f.guest_port = 0;
        CHECK_INT(forward_validate(&f, &c, NULL, 0, &why), -EINVAL);
        CHECK_STR(why, "guest_port is 0");

        /* policy: only into the desktop networks, only to allowed ports */
        f = fwd(50001, 0x0a14000f, "x");
        f.guest_port = 22;
        CHECK_INT(forward_validate(&f, &c, NULL, 0, &why), -EPERM);
        CHECK_STR(why, "guest_port is not one of [Forward] AllowedGuestPorts=");
        static const uint32_t outside[] = {
                0xc0a8010a,     /* 192.168.1.10: an internal host */
                0x0a150005,     /* 10.21.0.5: next to the host's network */
                0x0a140001,     /* 10.20.0.1: the gateway, this host */
                0x0a140000,     /* the subnet's own address */
                0x0a1403ff,     /* its broadcast (a /22) */
                0x0a140400,     /* 10.20.4.0: past it */
                0x0a1e0005,     /* sales, not served */
        };
        for (size_t i = 0; i < ELEMENTSOF(outside); i++) {
                f = fwd(50001, outside[i], "x");
                CHECK_INT(forward_validate(&f, &c, NULL, 0, &why), -EPERM);
                CHECK_STR(why, "address is not a guest address of a desktop network of this host");
        }
        /* the /22's guests beyond its first /24 */
        f = fwd(50001, 0x0a1400ff, "x");
        CHECK_INT(forward_validate(&f, &c, NULL, 0, &why), 0);
        f = fwd(50001, 0x0a1403fa, "x");
        CHECK_INT(forward_validate(&f, &c, NULL, 0, &why), 0);
        /* sales once served, but not its gateway */
        f = fwd(50001, 0x0a1e0005, "x");
        CHECK_INT(forward_validate(&f, &c, &sales, 1, &why), 0);
        f = fwd(50001, 0x0a1e0001, "x");
        CHECK_INT(forward_validate(&f, &c, &sales, 1, &why), -EPERM);
        /* another guest port once allowed */
        CHECK_INT(config_parse_text(&c, "[Forward]\nAllowedGuestPorts=3389, 3390\n", "t.conf", NULL), 0);
        f = fwd(50001, 0x0a14000f, "x");
        f.guest_port = 3390;
        CHECK_INT(forward_validate(&f, &c, NULL, 0, &why), 0);
}

int main(int argc, char *argv[]) {
        golden_dir = argc > 1 ? argv[1] : "tests/unit/golden";
        test_add_two();
        test_delete_one();
        test_split();
        test_empty();
        test_validate();
        test_network();
        test_config_sets();
        return test_summary();
}
