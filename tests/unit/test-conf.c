/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <pwd.h>
#include <sys/stat.h>

#include "conf.h"
#include "macro.h"
#include "tests.h"
#include "util.h"

static void write_file(const char *path, const char *text) {
        FILE *f = fopen(path, "we");
        CHECK(f != NULL);
        if (f) {
                fputs(text, f);
                fclose(f);
        }
}

/* text parses, and config_verify() refuses it with error. */
static void check_verify_refuses(const char *text, const char *error) {
        _cleanup_(config_done) VdeskConfig c = {};
        _cleanup_(freep) char *err = NULL;

        CHECK_INT(config_defaults(&c), 0);
        CHECK_INT(config_parse_text(&c, text, "t.conf", NULL), 0);
        CHECK_INT(config_verify(&c, &err), -EINVAL);
        CHECK_STR(err, error);
}

static void test_defaults_and_parse(void) {
        _cleanup_(config_done) VdeskConfig c = {};
        _cleanup_(freep) char *err = NULL;

        CHECK_INT(config_defaults(&c), 0);
        CHECK_INT(c.port_min, 50000);
        CHECK_INT(c.port_max, 59999);
        CHECK_INT(c.guest_port, 3389);
        CHECK_STR(c.libvirt_uri, "qemu:///system");

        CHECK_INT(config_parse_text(&c,
                                    "# comment\n"
                                    "; also a comment\n"
                                    "\n"
                                    "[Forward]\n"
                                    "PortMin = 51000\n"
                                    "  PortMax=51999  \n"
                                    "[Images]\n"
                                    "TemplateDir=/srv/t\n"
                                    "[Database]\n"
                                    "PasswordFile=/etc/vdesk/db=pass#word\n",
                                    "t.conf", &err), 0);
        CHECK_INT(c.port_min, 51000);
        CHECK_INT(c.port_max, 51999);
        CHECK_STR(c.template_dir, "/srv/t");
        CHECK_STR(c.db_password_file, "/etc/vdesk/db=pass#word");
        CHECK_INT(config_verify(&c, NULL), 0);
}

static void test_errors(void) {
        static const struct {
                const char *text;
                const char *error;
        } bad[] = {
                { "[Forward]\nPortMin=0\n",        "t.conf:2: invalid value for [Forward] PortMin: '0'" },
                { "[Forward]\nPortMin=70000\n",    "t.conf:2: invalid value for [Forward] PortMin: '70000'" },
                { "[Forward]\nPortMin=-1\n",       "t.conf:2: invalid value for [Forward] PortMin: '-1'" },
                { "[Forward]\nPortMin=5x\n",       "t.conf:2: invalid value for [Forward] PortMin: '5x'" },
                { "[Forward]\nNoSuchKey=1\n",      "t.conf:2: unknown setting [Forward] NoSuchKey" },
                { "PortMin=1\n",                   "t.conf:1: unknown setting [] PortMin" },
                { "[Forward\n",                    "t.conf:1: malformed section header" },
                { "\n\n[Images]\njunk\n",          "t.conf:4: expected Key=Value" },
                { "[Network]\nPrefix=31\n",        "t.conf:2: invalid value for [Network] Prefix: '31'" },
                { "[Database]\nTLS=maybe\n",      "t.conf:2: invalid value for [Database] TLS: 'maybe'" },
                { "[Database]\nTLS=\n",           "t.conf:2: invalid value for [Database] TLS: ''" },
                /* the password never comes from vdesk.conf, not even empty */
                { "[Database]\nUser=x\nPassword=secret\n",
                  "t.conf:3: [Database] Password= is not read from vdesk.conf, which every user may read: give the "
                  "password as the systemd credential vdesk.db-password (LoadCredential=) or in a file that "
                  "[Database] PasswordFile= names (mode 0600)" },
                { "[Database]\nPassword=\n",
                  "t.conf:2: [Database] Password= is not read from vdesk.conf, which every user may read: give the "
                  "password as the systemd credential vdesk.db-password (LoadCredential=) or in a file that "
                  "[Database] PasswordFile= names (mode 0600)" },
        };

        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                _cleanup_(config_done) VdeskConfig c = {};
                _cleanup_(freep) char *err = NULL;

                config_defaults(&c);
                CHECK_INT(config_parse_text(&c, bad[i].text, "t.conf", &err), -EINVAL);
                CHECK_STR(err, bad[i].error);
        }

        {
                _cleanup_(config_done) VdeskConfig c = {};
                _cleanup_(freep) char *err = NULL;

                config_defaults(&c);
                config_parse_text(&c, "[Forward]\nPortMin=55000\nPortMax=54000\n", "t.conf", NULL);
                CHECK_INT(config_verify(&c, &err), -EINVAL);
                CHECK_STR(err, "[Forward] PortMin=55000 is above PortMax=54000");
        }
        {
                /* [Network]: the range in the gateway's subnet, without it */
                static const struct {
                        const char *text;
                        const char *error;
                } net[] = {
                        { "[Network]\nGateway=10.20.0.300\n",
                          "[Network] Gateway=10.20.0.300 is not an IPv4 address" },
                        { "[Network]\nRangeEnd=\n", "[Network] RangeEnd= is not an IPv4 address" },
                        { "[Network]\nPrefix=24\n",
                          "[Network] Gateway=10.20.0.1 Prefix=24 RangeStart=10.20.0.10 RangeEnd=10.20.3.250: "
                          "Invalid range: its end 10.20.3.250 is not a host address of 10.20.0.0/24" },
                        { "[Network]\nRangeStart=10.20.0.0\n",
                          "[Network] Gateway=10.20.0.1 Prefix=22 RangeStart=10.20.0.0 RangeEnd=10.20.3.250: "
                          "Invalid range: its start 10.20.0.0 is not a host address of 10.20.0.0/22" },
                        { "[Network]\nRangeEnd=10.20.3.255\n",
                          "[Network] Gateway=10.20.0.1 Prefix=22 RangeStart=10.20.0.10 RangeEnd=10.20.3.255: "
                          "Invalid range: its end 10.20.3.255 is not a host address of 10.20.0.0/22" },
                        { "[Network]\nRangeStart=10.20.2.0\nRangeEnd=10.20.1.0\n",
                          "[Network] Gateway=10.20.0.1 Prefix=22 RangeStart=10.20.2.0 RangeEnd=10.20.1.0: "
                          "Invalid range: 10.20.2.0-10.20.1.0 ends before it starts" },
                        { "[Network]\nGateway=10.20.1.1\n",
                          "[Network] Gateway=10.20.1.1 Prefix=22 RangeStart=10.20.0.10 RangeEnd=10.20.3.250: "
                          "Invalid range: 10.20.0.10-10.20.3.250 holds the gateway 10.20.1.1" },
                };

                for (size_t i = 0; i < ELEMENTSOF(net); i++) {
                        _cleanup_(config_done) VdeskConfig c = {};
                        _cleanup_(freep) char *err = NULL;

                        config_defaults(&c);
                        CHECK_INT(config_parse_text(&c, net[i].text, "t.conf", NULL), 0);
                        CHECK_INT(config_verify(&c, &err), -EINVAL);
                        CHECK_STR(err, net[i].error);
                }
        }
        {
                /* the default network holds a thousand desktops, one /24 the old range */
                _cleanup_(config_done) VdeskConfig c = {};

                config_defaults(&c);
                CHECK_INT(c.prefix, 22);
                CHECK_STR(c.range_end, "10.20.3.250");
                CHECK_INT(config_parse_text(&c, "[Network]\nPrefix=24\nRangeEnd=10.20.0.250\n", "t.conf", NULL), 0);
                CHECK_INT(config_verify(&c, NULL), 0);
        }
        {
                _cleanup_(config_done) VdeskConfig c = {};
                _cleanup_(freep) char *err = NULL;

                config_defaults(&c);
                config_parse_text(&c, "[Images]\nTemplateDir=/srv/vdesk\nDiskDir=/srv/vdesk/disks\n", "t.conf", NULL);
                CHECK_INT(config_verify(&c, &err), -EINVAL);
                CHECK_STR(err, "[Images] TemplateDir= and DiskDir= must not contain each other");
        }
        {
                /* the broker's own URI: the rule AddHost follows */
                _cleanup_(config_done) VdeskConfig c = {};
                _cleanup_(freep) char *err = NULL;

                config_defaults(&c);
                config_parse_text(&c, "[Libvirt]\nURI=qemu+ssh://h/system?command=/tmp/x\n", "t.conf", NULL);
                CHECK_INT(config_verify(&c, &err), -EINVAL);
                CHECK(err && strstr(err, "[Libvirt] URI=qemu+ssh://h/system?command=/tmp/x has the query parameter "
                                         "'command', which vdesk refuses"));
        }
        {
                _cleanup_(config_done) VdeskConfig c = {};

                config_defaults(&c);
                config_parse_text(&c, "[Libvirt]\nURI=qemu+tls://h/system?pkipath=/etc/vdesk/pki/h\n", "t.conf", NULL);
                CHECK_INT(config_verify(&c, NULL), 0);
        }
}

static void test_dropins(void) {
        char dir[] = "/tmp/vdesk-test-conf.XXXXXX";
        char path[256], dpath[256], p[300];
        _cleanup_(config_done) VdeskConfig c = {};
        _cleanup_(freep) char *err = NULL;

        CHECK(mkdtemp(dir) != NULL);
        snprintf(path, sizeof path, "%s/vdesk.conf", dir);
        snprintf(dpath, sizeof dpath, "%s/vdesk.conf.d", dir);

        /* A missing main file is fine: the defaults apply. */
        CHECK_INT(config_load(path, &c, &err), 0);
        CHECK_INT(c.port_min, 50000);
        config_done(&c);

        write_file(path, "[Forward]\nPortMin=51000\nPortMax=52000\n");
        CHECK_INT(mkdir(dpath, 0755), 0);
        snprintf(p, sizeof p, "%s/20-b.conf", dpath);
        write_file(p, "[Forward]\nPortMax=53000\n");
        snprintf(p, sizeof p, "%s/10-a.conf", dpath);
        write_file(p, "[Forward]\nPortMax=99\n[Forward]\nPortMax=52500\n");
        snprintf(p, sizeof p, "%s/30-ignored.txt", dpath);
        write_file(p, "garbage\n");

        CHECK_INT(config_load(path, &c, &err), 0);
        CHECK_INT(c.port_min, 51000);
        CHECK_INT(c.port_max, 53000);   /* 20-b.conf wins over 10-a.conf */
        config_done(&c);

        snprintf(p, sizeof p, "%s/40-bad.conf", dpath);
        write_file(p, "[Bus]\nAddress=x\nTimeoutMSec=forever\n");
        CHECK_INT(config_load(path, &c, &err), -EINVAL);
        CHECK(err && strstr(err, "40-bad.conf:3: invalid value for [Bus] TimeoutMSec"));

        snprintf(p, sizeof p, "%s/40-bad.conf", dpath); unlink(p);
        snprintf(p, sizeof p, "%s/30-ignored.txt", dpath); unlink(p);
        snprintf(p, sizeof p, "%s/20-b.conf", dpath); unlink(p);
        snprintf(p, sizeof p, "%s/10-a.conf", dpath); unlink(p);
        rmdir(dpath);
        unlink(path);
        rmdir(dir);
}

/* [Monitor] and [Hosts]: defaults, and each bound refused by its key. */
static void test_monitor_hosts(void) {
        static const char *const bad[][2] = {
                { "[Monitor]\nHostMemoryPercent=101\n", "[Monitor] HostMemoryPercent=101 is not from 1 to 100" },
                { "[Monitor]\nHostMemoryPercent=0\n", "[Monitor] HostMemoryPercent=0 is not from 1 to 100" },
                { "[Monitor]\nHostCPUPercent=0\n", "[Monitor] HostCPUPercent=0 is not from 1 to 100" },
                { "[Monitor]\nThresholdSec=0\n", "[Monitor] ThresholdSec=0 is not from 1 to 86400" },
                { "[Monitor]\nIntervalSec=3601\n", "[Monitor] IntervalSec=3601 is not from 1 to 3600" },
                { "[Hosts]\nDefaultCapacity=0\n",
                  "[Hosts] ConnectTimeoutSec=, SampleSec= and DefaultCapacity= must be at least 1" },
                { "[Broker]\nIdleCheckSec=0\n", "[Broker] IdleCheckSec=0 is not from 1 to 3600" },
        };
        _cleanup_(config_done) VdeskConfig d = {};

        CHECK_INT(config_defaults(&d), 0);
        CHECK_INT(d.monitor_interval_sec, 5);
        CHECK_INT(d.monitor_memory_percent, 90);
        CHECK_INT(d.monitor_threshold_sec, 60);
        CHECK_STR(d.metrics_listen, "127.0.0.1:9750");
        CHECK_INT(d.host_connect_timeout_sec, 10);
        CHECK_INT(d.idle_check_sec, 60);
        CHECK_INT(config_verify(&d, NULL), 0);
        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                check_verify_refuses(bad[i][0], bad[i][1]);
}

/* [Directory]'s sign-in throttling per source: defaults, parsing, bounds. */
static void test_directory_sources(void) {
        static const char *const bad[][2] = {
                { "[Directory]\nSourceWindowMinutes=0\n",
                  "[Directory] SourceWindowMinutes= and SourceBlockMinutes= must be at least 1" },
                { "[Directory]\nSourceBlockMinutes=0\n",
                  "[Directory] SourceWindowMinutes= and SourceBlockMinutes= must be at least 1" },
        };
        _cleanup_(config_done) VdeskConfig c = {};
        _cleanup_(freep) char *err = NULL;

        CHECK_INT(config_defaults(&c), 0);
        CHECK_INT(c.max_failed_per_source, 20);
        CHECK_INT(c.source_window_minutes, 10);
        CHECK_INT(c.source_block_minutes, 10);
        CHECK_INT(config_verify(&c, NULL), 0);
        CHECK_INT(config_parse_text(&c, "[Directory]\nMaxFailedPerSource=0\nSourceWindowMinutes=1\n"
                                    "SourceBlockMinutes=1440\n", "t.conf", NULL), 0);
        CHECK_INT(c.max_failed_per_source, 0);
        CHECK_INT(c.source_window_minutes, 1);
        CHECK_INT(c.source_block_minutes, 1440);
        CHECK_INT(config_verify(&c, NULL), 0);
        CHECK_INT(config_parse_text(&c, "[Directory]\nSourceBlockMinutes=1441\n", "t.conf", &err), -EINVAL);
        CHECK_STR(err, "t.conf:2: invalid value for [Directory] SourceBlockMinutes: '1441'");
        err = mfree(err);
        CHECK_INT(config_parse_text(&c, "[Directory]\nMaxFailedPerSource=-1\n", "t.conf", &err), -EINVAL);
        CHECK_STR(err, "t.conf:2: invalid value for [Directory] MaxFailedPerSource: '-1'");

        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                check_verify_refuses(bad[i][0], bad[i][1]);
}

/* [Database]: the user, TLS and the cross-field rules. */
static void test_database(void) {
        static const char *const bad[][2] = {
                { "[Database]\nPasswordFile=db-password\n", "[Database] PasswordFile=db-password must be an absolute path" },
                { "[Database]\nHost=db\nTLS=verify\nTLSCA=ca.pem\n", "[Database] TLSCA=ca.pem must be an absolute path" },
                { "[Database]\nHost=db\nTLS=yes\nTLSCert=/c.pem\n",
                  "[Database] TLSCert= and TLSKey= go together: set both or neither" },
                { "[Database]\nTLS=verify\n", "[Database] TLS=verify needs Host=: the Unix socket (Socket=) takes no TLS" },
                { "[Database]\nHost=db\nTLSCA=/ca.pem\n", "[Database] TLSCA=, TLSCert= and TLSKey= need TLS=yes or TLS=verify" },
                { "[Database]\nHost=db\nTLSCert=/c.pem\nTLSKey=/k.pem\n",
                  "[Database] TLSCA=, TLSCert= and TLSKey= need TLS=yes or TLS=verify" },
                { "[Database]\nHost=db\nTLS=yes\nTLSCA=/ca.pem\n",
                  "[Database] TLSCA= is for TLS=verify (TLS=yes checks no certificate)" },
        };
        _cleanup_(config_done) VdeskConfig c = {};
        _cleanup_(freep) char *user = NULL;
        struct passwd *pw = getpwuid(geteuid());

        CHECK_INT(config_defaults(&c), 0);
        /* empty: whoever the process runs as, as unix_socket sees it */
        CHECK_STR(c.db_user, "");
        CHECK_INT(c.db_tls, DB_TLS_NO);
        CHECK(pw != NULL);
        CHECK_INT(config_db_user(&c, &user), 0);
        CHECK_STR(user, pw ? pw->pw_name : "?");
        user = mfree(user);
        CHECK_INT(config_parse_text(&c, "[Database]\nUser=vdesk-broker\n", "t.conf", NULL), 0);
        CHECK_INT(config_db_user(&c, &user), 0);
        CHECK_STR(user, "vdesk-broker");

        CHECK_INT(config_parse_text(&c, "[Database]\nHost=db.example\nTLS=verify\nTLSCA=/etc/ssl/db-ca.pem\n"
                                    "TLSCert=/etc/vdesk/c.pem\nTLSKey=/etc/vdesk/k.pem\n", "t.conf", NULL), 0);
        CHECK_INT(c.db_tls, DB_TLS_VERIFY);
        CHECK_STR(c.db_tls_ca, "/etc/ssl/db-ca.pem");
        CHECK_INT(config_verify(&c, NULL), 0);
        CHECK_INT(config_parse_text(&c, "[Database]\nTLS=yes\nTLSCA=\n", "t.conf", NULL), 0);
        CHECK_INT(c.db_tls, DB_TLS_YES);
        CHECK_INT(config_verify(&c, NULL), 0);
        CHECK_INT(config_parse_text(&c, "[Database]\nTLS=no\nTLSCert=\nTLSKey=\n", "t.conf", NULL), 0);
        CHECK_INT(c.db_tls, DB_TLS_NO);
        CHECK_INT(config_verify(&c, NULL), 0);

        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                check_verify_refuses(bad[i][0], bad[i][1]);
}

/* [Portal]: HTTPS by default, and what goes together. */
static void test_portal(void) {
        static const char *const bad[][2] = {
                { "[Portal]\nCertificate=\n", "[Portal] Certificate= and Key= go together: set both or neither" },
                { "[Portal]\nCertificate=c.pem\nKey=k.pem\n", "[Portal] Certificate= and Key= must be absolute paths" },
                { "[Portal]\nListen=\n", "[Portal] Listen= must not be empty" },
                { "[Portal]\nMaxConnections=0\n", "[Portal] MaxConnections= must be at least 1 and at least "
                  "MaxConnectionsPerAddress= (0: no limit per address)" },
                { "[Portal]\nMaxConnections=10\nMaxConnectionsPerAddress=11\n", "[Portal] MaxConnections= must be "
                  "at least 1 and at least MaxConnectionsPerAddress= (0: no limit per address)" },
        };
        _cleanup_(config_done) VdeskConfig c = {};

        CHECK_INT(config_defaults(&c), 0);
        CHECK_STR(c.portal_listen, "0.0.0.0:443");
        CHECK_STR(c.portal_certificate, "/etc/vdesk/portal/cert.pem");
        CHECK_STR(c.portal_key, "/etc/vdesk/portal/key.pem");
        CHECK(!c.portal_plain_http);
        CHECK_INT(config_verify(&c, NULL), 0);
        CHECK_INT(config_parse_text(&c, "[Portal]\nListen=127.0.0.1:8080\nCertificate=\nKey=\nAllowPlainHTTP=yes\n"
                                    "MaxConnectionsPerAddress=0\n", "t.conf", NULL), 0);
        CHECK(c.portal_plain_http);
        CHECK_INT((int) c.portal_max_per_address, 0);
        CHECK_INT(config_verify(&c, NULL), 0);
        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                check_verify_refuses(bad[i][0], bad[i][1]);
}

static void write_mode(const char *path, const char *text, mode_t mode) {
        write_file(path, text);
        CHECK_INT(chmod(path, mode), 0);
}

/* config_db_password(): where the password comes from, and what is refused. */
static void test_database_password(void) {
        char dir[] = "/tmp/vdesk-test-conf.XXXXXX";
        char file[256], creds[256], cred[300], expected[512];
        _cleanup_(config_done) VdeskConfig c = {};

        CHECK(mkdtemp(dir) != NULL);
        snprintf(file, sizeof file, "%s/db-password", dir);
        snprintf(creds, sizeof creds, "%s/credentials", dir);
        snprintf(cred, sizeof cred, "%s/vdesk.db-password", creds);
        CHECK_INT(mkdir(creds, 0700), 0);
        CHECK_INT(config_defaults(&c), 0);
        CHECK_INT(unsetenv("CREDENTIALS_DIRECTORY"), 0);

        /* neither: no password (the unix_socket plugin) */
        {
                _cleanup_(erase_and_freep) char *pw = NULL;
                _cleanup_(freep) char *err = NULL;

                CHECK_INT(config_db_password(&c, &pw, &err), 0);
                CHECK(pw == NULL);
        }

        CHECK_INT(free_and_strdup(&c.db_password_file, file), 0);
        /* 0600: read, the trailing newline dropped */
        write_mode(file, "file pass\n", 0600);
        {
                _cleanup_(erase_and_freep) char *pw = NULL;
                _cleanup_(freep) char *err = NULL;

                CHECK_INT(config_db_password(&c, &pw, &err), 0);
                CHECK_STR(pw, "file pass");
        }
        /* 0644 (or 0640): refused, the key and the mode named, no password */
        static const mode_t bad_modes[] = { 0644, 0640, 0604 };
        for (size_t i = 0; i < ELEMENTSOF(bad_modes); i++) {
                _cleanup_(erase_and_freep) char *pw = NULL;
                _cleanup_(freep) char *err = NULL;

                CHECK_INT(chmod(file, bad_modes[i]), 0);
                CHECK_INT(config_db_password(&c, &pw, &err), -EPERM);
                CHECK(pw == NULL);
                snprintf(expected, sizeof expected, "[Database] PasswordFile=%s has mode %04o: group and others "
                         "must have no access to it (chmod 0600)", file, (unsigned) bad_modes[i]);
                CHECK_STR(err, expected);
                CHECK(err && !strstr(err, "file pass"));
        }
        CHECK_INT(chmod(file, 0600), 0);
        /* another user's file, as root can make one */
        if (geteuid() == 0) {
                _cleanup_(erase_and_freep) char *pw = NULL;
                _cleanup_(freep) char *err = NULL;

                CHECK_INT(chown(file, 1, 1), 0);
                CHECK_INT(config_db_password(&c, &pw, &err), -EPERM);
                snprintf(expected, sizeof expected, "[Database] PasswordFile=%s belongs to uid 1: it must belong to "
                         "root or to this service's user (uid 0)", file);
                CHECK_STR(err, expected);
                CHECK_INT(chown(file, 0, 0), 0);
        }
        /* missing, empty: refused, named */
        {
                _cleanup_(erase_and_freep) char *pw = NULL;
                _cleanup_(freep) char *err = NULL;

                write_mode(file, "\n", 0600);
                CHECK_INT(config_db_password(&c, &pw, &err), -EINVAL);
                snprintf(expected, sizeof expected, "[Database] PasswordFile=%s is empty", file);
                CHECK_STR(err, expected);
                err = mfree(err);
                CHECK_INT(unlink(file), 0);
                CHECK_INT(config_db_password(&c, &pw, &err), -ENOENT);
                snprintf(expected, sizeof expected, "[Database] PasswordFile=%s cannot be opened: %s",
                         file, strerror(ENOENT));
                CHECK_STR(err, expected);
        }

        /* the credential wins over PasswordFile= (which holds another) */
        write_mode(file, "file pass\n", 0600);
        write_mode(cred, "credential pass\r\n", 0400);
        CHECK_INT(setenv("CREDENTIALS_DIRECTORY", creds, 1), 0);
        {
                _cleanup_(erase_and_freep) char *pw = NULL;
                _cleanup_(freep) char *err = NULL;

                CHECK_INT(config_db_password(&c, &pw, &err), 0);
                CHECK_STR(pw, "credential pass");
        }
        /* a credential directory without it: PasswordFile= */
        CHECK_INT(unlink(cred), 0);
        {
                _cleanup_(erase_and_freep) char *pw = NULL;
                _cleanup_(freep) char *err = NULL;

                CHECK_INT(config_db_password(&c, &pw, &err), 0);
                CHECK_STR(pw, "file pass");
        }
        CHECK_INT(unsetenv("CREDENTIALS_DIRECTORY"), 0);

        unlink(file);
        rmdir(creds);
        rmdir(dir);
}

/* The list settings of the forwards and the host's filter: parsed, and each
 * bad value refused with its key named. */
static void test_lists(void) {
        static const char *const bad_parse[][2] = {
                { "[Forward]\nAllowedSources=10.0.0.0/33\n",
                  "t.conf:2: invalid value for [Forward] AllowedSources: '10.0.0.0/33'" },
                { "[Forward]\nAllowedSources=10.0.0.1/8\n",
                  "t.conf:2: invalid value for [Forward] AllowedSources: '10.0.0.1/8'" },
                { "[Forward]\nAllowedSources=office\n",
                  "t.conf:2: invalid value for [Forward] AllowedSources: 'office'" },
                { "[Forward]\nAllowedGuestPorts=3389 0\n",
                  "t.conf:2: invalid value for [Forward] AllowedGuestPorts: '3389 0'" },
                { "[Forward]\nAllowedGuestPorts=rdp\n",
                  "t.conf:2: invalid value for [Forward] AllowedGuestPorts: 'rdp'" },
                { "[Network]\nHostServices=123\n",
                  "t.conf:2: invalid value for [Network] HostServices: '123'" },
                { "[Network]\nHostServices=123/sctp\n",
                  "t.conf:2: invalid value for [Network] HostServices: '123/sctp'" },
                { "[Network]\nHostServices=70000/tcp\n",
                  "t.conf:2: invalid value for [Network] HostServices: '70000/tcp'" },
        };
        static const char *const bad_verify[][2] = {
                { "[Forward]\nAllowedSources=10.0.0.0/8 10.1.0.0/16\n",
                  "[Forward] AllowedSources= 10.1.0.0/16 overlaps 10.0.0.0/8" },
                { "[Forward]\nAllowedGuestPorts=3390\n",
                  "[Forward] GuestPort=3389 is not one of AllowedGuestPorts=" },
                { "[Forward]\nAllowedGuestPorts=\n",
                  "[Forward] GuestPort=3389 is not one of AllowedGuestPorts=" },
        };
        _cleanup_(config_done) VdeskConfig c = {};
        _cleanup_(freep) char *err = NULL;

        CHECK_INT(config_defaults(&c), 0);
        CHECK_INT(c.n_allowed_guest_ports, 1);
        CHECK_INT(c.allowed_guest_ports[0], 3389);
        CHECK_INT(c.n_allowed_sources, 0);
        CHECK_INT(c.n_host_services, 0);
        CHECK_INT(config_parse_text(&c,
                                    "[Forward]\n"
                                    "AllowedGuestPorts=3389,3390\n"
                                    "AllowedSources=192.0.2.0/24, 198.51.100.7  10.0.0.0/8\n"
                                    "[Network]\n"
                                    "HostServices=123/udp 8443/tcp\n",
                                    "t.conf", &err), 0);
        CHECK_INT(c.n_allowed_guest_ports, 2);
        CHECK_INT(c.allowed_guest_ports[1], 3390);
        CHECK_INT(c.n_allowed_sources, 3);
        CHECK_INT(c.allowed_sources[0].address, 0xc0000200);
        CHECK_INT(c.allowed_sources[0].prefix, 24);
        CHECK_INT(c.allowed_sources[1].address, 0xc6336407);
        CHECK_INT(c.allowed_sources[1].prefix, 32);
        CHECK_INT(c.allowed_sources[2].prefix, 8);
        CHECK_INT(c.n_host_services, 2);
        CHECK_INT(c.host_services[0].protocol, 17);
        CHECK_INT(c.host_services[0].port, 123);
        CHECK_INT(c.host_services[1].protocol, 6);
        CHECK_INT(c.host_services[1].port, 8443);
        CHECK(config_guest_port_allowed(&c, 3390));
        CHECK(!config_guest_port_allowed(&c, 22));
        CHECK_INT(config_verify(&c, NULL), 0);
        /* a later setting replaces the list; empty empties it */
        CHECK_INT(config_parse_text(&c, "[Forward]\nAllowedSources=\n", "t.conf", NULL), 0);
        CHECK_INT(c.n_allowed_sources, 0);

        for (size_t i = 0; i < ELEMENTSOF(bad_parse); i++) {
                _cleanup_(config_done) VdeskConfig d = {};
                _cleanup_(freep) char *e = NULL;

                CHECK_INT(config_defaults(&d), 0);
                CHECK_INT(config_parse_text(&d, bad_parse[i][0], "t.conf", &e), -EINVAL);
                CHECK_STR(e, bad_parse[i][1]);
        }
        for (size_t i = 0; i < ELEMENTSOF(bad_verify); i++)
                check_verify_refuses(bad_verify[i][0], bad_verify[i][1]);
}

int main(void) {
        test_monitor_hosts();
        test_defaults_and_parse();
        test_errors();
        test_dropins();
        test_database();
        test_portal();
        test_directory_sources();
        test_database_password();
        test_lists();
        return test_summary();
}
