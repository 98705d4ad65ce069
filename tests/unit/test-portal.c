/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* The portal's pure parts: which language a browser gets, HTML escaping
 * (the one defence of every page against markup in names and messages),
 * and which paths a redirect may go back to. */

#include <stdlib.h>
#include <string.h>

#include "html.h"
#include "i18n.h"
#include "macro.h"
#include "tests.h"

static void test_language(void) {
        CHECK_STR(i18n_choose(NULL, NULL)->code, "en");
        CHECK_STR(i18n_choose(NULL, "")->code, "en");
        CHECK_STR(i18n_choose(NULL, "zh-CN,zh;q=0.9,en;q=0.8")->code, "zh_CN");
        CHECK_STR(i18n_choose(NULL, "zh")->code, "zh_CN");
        CHECK_STR(i18n_choose(NULL, "zh-Hans-CN")->code, "zh_CN");
        /* Traditional Chinese is not Simplified: English rather than the wrong script */
        CHECK_STR(i18n_choose(NULL, "zh-TW")->code, "en");
        CHECK_STR(i18n_choose(NULL, "zh-Hant")->code, "en");
        /* weights, not order, decide; a zero weight refuses */
        CHECK_STR(i18n_choose(NULL, "en;q=0.5, zh-CN;q=0.9")->code, "zh_CN");
        CHECK_STR(i18n_choose(NULL, "zh-CN;q=0, en")->code, "en");
        CHECK_STR(i18n_choose(NULL, "fr-FR, de;q=0.8")->code, "en");
        CHECK_STR(i18n_choose(NULL, "fr, zh-cn;q=0.3")->code, "zh_CN");
        /* the page's switch (the cookie) wins over the browser */
        CHECK_STR(i18n_choose("en", "zh-CN")->code, "en");
        CHECK_STR(i18n_choose("zh_CN", "en")->code, "zh_CN");
        CHECK_STR(i18n_choose("xx", "zh-CN")->code, "zh_CN");
        CHECK(i18n_find("zh_CN") && streq(i18n_find("zh_CN")->tag, "zh-CN"));
        CHECK(!i18n_find("de"));
}

static void test_html(void) {
        char *out = NULL;
        size_t size = 0;
        Html h;

        CHECK_INT(html_open(&h), 0);
        html_printf(&h, "<p title=\"%s\">%s %S %u%%</p>", "a\"b", "<script>&'", "<b>ok</b>", 42u);
        CHECK_INT(html_close(&h, &out, &size), 0);
        CHECK_STR(out, "<p title=\"a&quot;b\">&lt;script&gt;&amp;&#39; <b>ok</b> 42%</p>");
        CHECK_INT((int) size, (int) strlen(out));
        free(out);
}

static void test_local_path(void) {
        CHECK(url_is_local_path("/desktops"));
        CHECK(url_is_local_path("/open/office-ann"));
        CHECK(!url_is_local_path("//evil.example/"));
        CHECK(!url_is_local_path("/\\evil.example"));
        CHECK(!url_is_local_path("https://evil.example/"));
        CHECK(!url_is_local_path("desktops"));
        CHECK(!url_is_local_path("/a?b=c"));
        CHECK(!url_is_local_path("/a\r\nSet-Cookie: x=y"));
        CHECK(!url_is_local_path(NULL));
}

int main(void) {
        test_language();
        test_html();
        test_local_path();
        return test_summary();
}
