/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* The netlink transactions netd sends, compared with golden files. Set
 * VDESK_UPDATE_GOLDEN=1 to rewrite them after a deliberate change (and read
 * the diff). */

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

static void test_validate(void) {
        _cleanup_(config_done) VdeskConfig c = {};
        const char *why = NULL;
        Forward f = fwd(50001, 0x0a14000f, "alice-desk");

        config_defaults(&c);
        CHECK_INT(forward_validate(&f, &c, &why), 0);
        f.port = 40000;
        CHECK_INT(forward_validate(&f, &c, &why), -EINVAL);
        CHECK_STR(why, "port is outside the configured forward range");
        f = fwd(50001, 0x7f000001, "x");
        CHECK_INT(forward_validate(&f, &c, &why), -EINVAL);
        CHECK_STR(why, "address is not a unicast guest address");
        f = fwd(50001, 0xe0000001, "x");
        CHECK_INT(forward_validate(&f, &c, &why), -EINVAL);
        f = fwd(50001, 0x0a14000f, "");
        CHECK_INT(forward_validate(&f, &c, &why), -EINVAL);
        CHECK_STR(why, "desktop is not a valid desktop name");
        f = fwd(50001, 0x0a14000f, "x");
        f.guest_port = 0;
        CHECK_INT(forward_validate(&f, &c, &why), -EINVAL);
        CHECK_STR(why, "guest_port is 0");
}

int main(int argc, char *argv[]) {
        golden_dir = argc > 1 ? argv[1] : "tests/unit/golden";
        test_add_two();
        test_delete_one();
        test_split();
        test_empty();
        test_validate();
        return test_summary();
}
