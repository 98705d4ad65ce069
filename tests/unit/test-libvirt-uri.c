/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include "libvirt-uri.h"
#include "macro.h"
#include "tests.h"

static void test_good(void) {
        static const char *const good[][2] = {
                { "qemu:///system", "" },
                { "qemu+unix:///system", "" },
                { "qemu+tls://node7.example.com/system", "node7.example.com" },
                { "qemu+ssh://root@10.0.0.7/system", "10.0.0.7" },
                { "qemu+tcp://10.0.0.7:16509/system", "10.0.0.7" },
                { "qemu+libssh://10.0.0.7/system", "10.0.0.7" },
                { "test:///default", "" },
                /* no query, an empty one, empty pieces */
                { "qemu+tls://h/system?", "h" },
                { "qemu+tls://h/system?&&pkipath=/etc/vdesk/pki/h&", "h" },
                /* each parameter that only tunes verification or authentication */
                { "qemu+tls://h/system?no_verify=1", "h" },
                { "qemu+ssh://h/system?no_tty=1", "h" },
                { "qemu+tls://h/system?pkipath=/etc/vdesk/pki/h", "h" },
                { "qemu+ssh://10.0.0.7/system?keyfile=/etc/vdesk/pki/id_ed25519", "10.0.0.7" },
                { "qemu+libssh://h/system?known_hosts=/etc/vdesk/pki/known_hosts&known_hosts_verify=normal", "h" },
                { "qemu+libssh://h/system?sshauth=privkey,agent", "h" },
                { "qemu+tls://h/system?tls_priority=NORMAL", "h" },
                { "qemu+tls://h/system?no_verify=0;pkipath=/etc/vdesk/pki/p", "h" },
                /* libvirt matches names ignoring case */
                { "qemu+tls://h/system?PKIPath=/etc/vdesk/pki/h2", "h" },
        };
        char reason[LIBVIRT_URI_REASON_MAX], host[LIBVIRT_URI_HOST_MAX];

        for (size_t i = 0; i < ELEMENTSOF(good); i++) {
                const char *why = libvirt_uri_invalid_reason(good[i][0], reason, host);

                if (why)
                        fprintf(stderr, "refused a good URI: '%s' %s\n", good[i][0], why);
                CHECK(why == NULL);
                CHECK_STR(host, good[i][1]);
        }
        /* the host is optional */
        CHECK(libvirt_uri_invalid_reason("qemu+tls://h/system", reason, NULL) == NULL);
}

static void test_bad(void) {
        static const char *const bad[][2] = {
                { "", "is empty" },
                { "qemu", "is not of the form" },
                { "qemu:///session", "path other than /system" },
                { "qemu+tcp://10.0.0.7/session", "path other than /system" },
                { "qemu://10.0.0.7/system", "names a host but no remote transport" },
                { "qemu+tcp:///system", "names a remote transport but no host" },
                { "xen+ssh://h/system", "names a driver or transport vdesk does not use" },
                { "qemu+ext:///system?command=/tmp/x", "names a driver or transport vdesk does not use" },
                { "qemu+tcp://h:0/system", "port" },
                { "qemu+tcp://h:99999/system", "port" },
                { "qemu+tcp://h:x/system", "port" },
                { "qemu+tcp://h/system extra", "space" },
                { "qemu+tcp://h$x/system", "host name with characters" },
                { "qemu+ssh://-oProxyCommand/system", "host name with characters" },
                { "qemu+ssh://-oProxyCommand=x@h/system", "user name" },
                { "://h/system", "has no driver" },
                { "qemu+tcp://h", "has no path" },
                { "test:///etc/shadow", "path other than /default" },
                { "qemu+tls://h/system#command=/tmp/x", "fragment" },
                /* the authority ends at '?', as libxml2 parses it: this is
                 * host h with a query naming a program, not user
                 * "h?command=/tmp/x" at h2 */
                { "qemu+ssh://h?command=/tmp/x@h2/system", "has no path" },
                /* every parameter that names a program, a socket or a URI */
                { "qemu+ssh://h/system?command=/tmp/x", "has the query parameter 'command', which vdesk refuses" },
                { "qemu+ssh://h/system?netcat=/tmp/x", "has the query parameter 'netcat', which vdesk refuses" },
                { "qemu+unix:///system?socket=/tmp/s", "has the query parameter 'socket', which vdesk refuses" },
                { "qemu+ssh://h/system?socket=/tmp/s", "has the query parameter 'socket', which vdesk refuses" },
                { "qemu+ssh://h/system?proxy=netcat", "has the query parameter 'proxy', which vdesk refuses" },
                { "qemu:///system?mode=legacy", "has the query parameter 'mode', which vdesk refuses" },
                { "qemu+tls://h/system?name=qemu:///session", "has the query parameter 'name', which vdesk refuses" },
                { "qemu+tls://h/system?auth=sasl", "has the query parameter 'auth', which vdesk refuses" },
                { "qemu+tls://h/system?authfile=/etc/x", "has the query parameter 'authfile', which vdesk refuses" },
                { "qemu+tls://h/system?no_sanity=1", "has the query parameter 'no_sanity', which vdesk refuses" },
                { "qemu+tls://h/system?whatever=1", "has the query parameter 'whatever', which vdesk refuses" },
                /* libvirt ignores case */
                { "qemu+ssh://h/system?COMMAND=/tmp/x", "has the query parameter 'COMMAND', which vdesk refuses" },
                { "qemu+ssh://h/system?NetCat=/tmp/x", "has the query parameter 'NetCat', which vdesk refuses" },
                /* one among good ones, after ';' (libvirt's other separator) */
                { "qemu+ssh://h/system?no_tty=1&keyfile=/etc/vdesk/pki/k&command=/tmp/x", "parameter 'command'" },
                { "qemu+ssh://h/system?no_tty=1;command=/tmp/x", "parameter 'command'" },
                { "qemu+ssh://h/system?no_tty=1;command=/tmp/x&keyfile=/etc/vdesk/pki/k", "parameter 'command'" },
                /* libvirt percent-decodes names: comm%61nd is command */
                { "qemu+ssh://h/system?comm%61nd=/tmp/x", "('comm%61nd'): percent-encoded names are refused" },
                { "qemu+ssh://h/system?%63ommand=/tmp/x", "percent-encoded names are refused" },
                { "qemu+ssh://h/system?no_tty%00=1", "percent-encoded names are refused" },
                { "qemu+ssh://h/system?no_tty+=1", "a character other than a letter" },
                /* repeated, in any case: which one counts is libvirt's choice */
                { "qemu+tls://h/system?pkipath=/etc/vdesk/pki/a&PKIPATH=/etc/vdesk/pki/b", "has the query parameter 'pkipath' twice" },
                /* the files a URI names: under /etc/vdesk/pki/, plainly */
                { "qemu+tls://h/system?pkipath=/etc/pki/vdesk", "'pkipath' naming a file outside /etc/vdesk/pki/" },
                { "qemu+tls://h/system?pkipath=/etc/vdesk/pki/../../shadow", "'pkipath' naming a file outside" },
                { "qemu+tls://h/system?pkipath=/etc/vdesk/pki/.ssh", "'pkipath' naming a file outside" },
                { "qemu+tls://h/system?pkipath=/etc/vdesk/pki/vd%65sk", "'pkipath' naming a file outside" },
                { "qemu+ssh://h/system?keyfile", "'keyfile' naming a file outside" },
                { "qemu+ssh://h/system?keyfile=/root/.ssh/id_rsa", "'keyfile' naming a file outside" },
                { "qemu+libssh://h/system?known_hosts=/var/lib/vdesk/isos/k", "'known_hosts' naming a file outside" },
                { "qemu+tls://h/system?=x", "without a name" },
        };
        char reason[LIBVIRT_URI_REASON_MAX], host[LIBVIRT_URI_HOST_MAX];

        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                const char *why = libvirt_uri_invalid_reason(bad[i][0], reason, host);

                if (!why || !strstr(why, bad[i][1]))
                        fprintf(stderr, "'%s': expected '%s', got '%s'\n", bad[i][0], bad[i][1], why ?: "(accepted)");
                CHECK(why && strstr(why, bad[i][1]));
                CHECK_STR(host, "");
        }
}

int main(void) {
        test_good();
        test_bad();
        return test_summary();
}
