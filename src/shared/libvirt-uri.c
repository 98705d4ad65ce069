/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <ctype.h>
#include <strings.h>

#include "libvirt-uri.h"
#include "macro.h"
#include "util.h"

/* The query parameters vdesk lets through to libvirt's remote driver
 * (doRemoteOpen), each of which only tunes how the connection verifies or
 * authenticates; libvirt matches their names ignoring case:
 *   no_verify           TLS: do not check the server's certificate; ssh:
 *                       StrictHostKeyChecking=no
 *   no_tty              ssh: never prompt (BatchMode=yes)
 *   pkipath             TLS: the directory of the CA and client certificates
 *   keyfile             ssh: the private key to authenticate with
 *   known_hosts         libssh(2): the known hosts file
 *   known_hosts_verify  libssh(2): normal, auto or ignore
 *   sshauth             libssh(2): the order of the authentication methods
 *   tls_priority        TLS: the GnuTLS priority string
 * Everything else is refused, among them:
 *   command   the program run locally to reach the host (ssh's binary, or
 *             the ext transport's program): a program of the caller's choice
 *   netcat    the program the ssh transport runs on the host, through its
 *             shell
 *   socket    the UNIX socket connected to (here for unix, on the host for
 *             ssh): a socket of the caller's choice
 *   proxy     chooses the program the ssh transport runs on the host
 *             (virt-ssh-helper or nc); the default (auto) tries both
 *   mode      chooses whose socket is connected to (libvirtd's or
 *             virtqemud's); the default (auto) finds it
 *   name      the URI the host's daemon opens instead of this one: it would
 *             undo the driver and /system checks below
 *   auth      forces a SASL or polkit mechanism; negotiation does without
 *   authfile  a credentials file libvirt answers the host's questions from:
 *             credentials for a host of the caller's choice
 *   no_sanity skips the check that the TLS files exist, nothing vdesk needs
 *   any other: passed through to the driver of the host's daemon.
 * (keyfile, pkipath and known_hosts name files the daemon reads; with
 * known_hosts_verify=auto or no_verify, ssh adds the host's key to the
 * known hosts file: a line of a host key, never a program or a secret.) */
static const char *const allowed_params[] = {
        "no_verify", "no_tty", "pkipath", "keyfile", "known_hosts", "known_hosts_verify", "sshauth", "tls_priority",
};

/* libvirt (virURIParseParams) splits the query at '&' or, where no '&'
 * follows, at ';', takes a name up to the first '=' and percent-decodes
 * it, and matches names ignoring case; a repeated parameter's last value
 * wins. Splitting at both '&' and ';' cuts the query into pieces no longer
 * than libvirt's, each starting where one of libvirt's may start; names of
 * letters, digits and '_' only leave nothing to decode, so the names seen
 * here are those libvirt sees, or pieces of them. */
/* The parameters that name a file the daemon reads (and, for known_hosts,
 * may write): only under VDESK_URI_FILES_DIR, in plain characters (no
 * percent-encoding, no dot files, no "..") */
static bool names_file(const char *name, size_t n) {
        return (n == 7 && strncasecmp(name, "pkipath", 7) == 0) || (n == 7 && strncasecmp(name, "keyfile", 7) == 0) ||
               (n == 11 && strncasecmp(name, "known_hosts", 11) == 0);
}

static bool file_value_is_valid(const char *v, size_t n) {
        size_t l = strlen(VDESK_URI_FILES_DIR);

        if (n <= l || n > 200 || strncmp(v, VDESK_URI_FILES_DIR, l) != 0)
                return false;
        for (size_t i = 0; i < n; i++) {
                if (!isalnum((unsigned char) v[i]) && !IN_SET_CHAR(v[i], '/', '.', '_', '-'))
                        return false;
                if (v[i] == '.' && (i == 0 || v[i - 1] == '/'))
                        return false;
        }
        return true;
}

static const char *query_invalid_reason(const char *query, char reason[static LIBVIRT_URI_REASON_MAX]) {
        unsigned seen = 0;

        _Static_assert(ELEMENTSOF(allowed_params) <= 8 * sizeof seen, "seen has a bit per parameter");
        for (const char *s = query; *s;) {
                size_t n = strcspn(s, "&;"), k = strcspn(s, "=");
                size_t i;

                if (k > n)
                        k = n;
                if (n == 0) {           /* "&&": an empty piece, which libvirt skips too */
                        s++;
                        continue;
                }
                if (k == 0)
                        return "has a query parameter without a name";
                for (i = 0; i < k; i++)
                        if (!isalnum((unsigned char) s[i]) && s[i] != '_') {
                                snprintf(reason, LIBVIRT_URI_REASON_MAX,
                                         "has a query parameter name with a character other than a letter, a digit or "
                                         "'_' ('%.*s'): percent-encoded names are refused",
                                         (int) MIN(k, (size_t) 64), s);
                                return reason;
                        }
                for (i = 0; i < ELEMENTSOF(allowed_params); i++)
                        if (strlen(allowed_params[i]) == k && strncasecmp(s, allowed_params[i], k) == 0)
                                break;
                if (i == ELEMENTSOF(allowed_params)) {
                        snprintf(reason, LIBVIRT_URI_REASON_MAX,
                                 "has the query parameter '%.*s', which vdesk refuses: it accepts only no_verify, "
                                 "no_tty, pkipath, keyfile, known_hosts, known_hosts_verify, sshauth, tls_priority",
                                 (int) MIN(k, (size_t) 64), s);
                        return reason;
                }
                if (names_file(s, k) && !(k < n && file_value_is_valid(s + k + 1, n - k - 1))) {
                        snprintf(reason, LIBVIRT_URI_REASON_MAX,
                                 "has the query parameter '%s' naming a file outside " VDESK_URI_FILES_DIR
                                 " (or in other characters than letters, digits, '/', '.', '_', '-')",
                                 allowed_params[i]);
                        return reason;
                }
                if (seen & (1u << i)) {
                        snprintf(reason, LIBVIRT_URI_REASON_MAX, "has the query parameter '%s' twice",
                                 allowed_params[i]);
                        return reason;
                }
                seen |= 1u << i;
                s += n;
                if (*s)
                        s++;
        }
        return NULL;
}

static bool user_is_valid(const char *s, size_t n) {
        if (n == 0 || s[0] == '-')
                return false;
        for (size_t i = 0; i < n; i++)
                if (!isalnum((unsigned char) s[i]) && !IN_SET_CHAR(s[i], '.', '_', '-'))
                        return false;
        return true;
}

#define SCHEME_MAX 16

/* The URI as a whole: its length, its characters, no fragment. */
static const char *text_invalid_reason(const char *uri) {
        if (isempty(uri))
                return "is empty";
        if (strlen(uri) > 255)
                return "is longer than 255 characters";
        for (const char *p = uri; *p; p++)
                if ((unsigned char) *p <= ' ' || (unsigned char) *p >= 0x7f)
                        return "has a space, a control or a non-ASCII character";
        /* libvirt would pass a fragment on to the host's daemon */
        if (strchr(uri, '#'))
                return "has a fragment ('#')";
        return NULL;
}

/* driver[+transport]://: one vdesk uses, remote or not; *ret_rest: what
 * follows "://". */
static const char *scheme_invalid_reason(const char *uri, char scheme[static SCHEME_MAX], bool *ret_remote,
                                         const char **ret_rest) {
        static const char *const remote[] = { "qemu+tls", "qemu+ssh", "qemu+tcp", "qemu+libssh", "qemu+libssh2" };
        const char *p;
        bool is_remote = false;
        size_t len;

        p = strstr(uri, "://");
        if (!p)
                return "is not of the form driver[+transport]://[host]/path";
        len = (size_t) (p - uri);
        if (len == 0 || len >= SCHEME_MAX)
                return "has no driver";
        memcpy(scheme, uri, len);
        scheme[len] = 0;
        for (size_t i = 0; i < ELEMENTSOF(remote); i++)
                is_remote = is_remote || streq(scheme, remote[i]);
        if (!is_remote && !streq(scheme, "qemu") && !streq(scheme, "qemu+unix") && !streq(scheme, "test"))
                return "names a driver or transport vdesk does not use (qemu, qemu+tls, qemu+ssh, qemu+tcp, "
                       "qemu+unix, test)";
        *ret_remote = is_remote;
        *ret_rest = p + 3;
        return NULL;
}

/* host[:port], the port cut off (host is changed in place). */
static const char *host_invalid_reason(char *host) {
        char *colon = strrchr(host, ':');

        if (colon && host[0] != '[') {
                unsigned port;
                char *end;

                errno = 0;
                port = (unsigned) strtoul(colon + 1, &end, 10);
                if (colon[1] == 0 || *end || errno || port == 0 || port > 65535)
                        return "has a port that is not a number from 1 to 65535";
                *colon = 0;
        }
        /* a host name never starts with '-' (RFC 1123), which ssh would read
         * as an option */
        if (host[0] == '-' || host[0] == 0)
                return "has a host name with characters a host name cannot have";
        for (const char *c = host; *c; c++)
                if (!(isalnum((unsigned char) *c) || strchr(".-_[]:", *c)))
                        return "has a host name with characters a host name cannot have";
        return NULL;
}

/* [user@][host[:port]] up to the path: a host exactly when the transport
 * is remote, into host; *ret_path: the path and what follows it. */
static const char *authority_invalid_reason(const char *auth, bool is_remote, char host[static LIBVIRT_URI_HOST_MAX],
                                            const char **ret_path) {
        const char *path, *at, *why;
        size_t len;

        /* The authority ends at the first '/' or '?' (RFC 3986, as libxml2
         * parses it for libvirt): "h?command=x@h2/system" is host h with a
         * query, not user "h?command=x" at h2. */
        len = strcspn(auth, "/?");
        path = auth + len;
        if (*path != '/')
                return "has no path (/system)";
        at = memchr(auth, '@', len);
        if (at) {
                /* ssh's login name: never one it could take for an option */
                if (!user_is_valid(auth, (size_t) (at - auth)))
                        return "has a user name other than letters, digits, '.', '_' and '-' (not first)";
                len -= (size_t) (at + 1 - auth);
                auth = at + 1;
        }
        if (len >= LIBVIRT_URI_HOST_MAX)
                return "has a host name that is too long";
        memcpy(host, auth, len);
        host[len] = 0;
        if (is_remote && len == 0)
                return "names a remote transport but no host";
        if (!is_remote && len != 0)
                return "names a host but no remote transport (qemu+tls://, qemu+ssh://, qemu+tcp://)";
        if (len > 0) {
                why = host_invalid_reason(host);
                if (why)
                        return why;
        }
        *ret_path = path;
        return NULL;
}

/* The driver's one path, then the query. */
static const char *path_invalid_reason(const char *scheme, const char *path,
                                       char reason[static LIBVIRT_URI_REASON_MAX]) {
        size_t plen = strcspn(path, "?");

        if (startswith(scheme, "qemu")) {
                if (plen != strlen("/system") || strncmp(path, "/system", plen) != 0)
                        return "has a path other than /system: vdesk's desktops are system domains";
        } else if (plen != strlen("/default") || strncmp(path, "/default", plen) != 0)
                /* any other path is a file the test driver would read */
                return "has a path other than /default for the test driver";

        if (path[plen] == '?')
                return query_invalid_reason(path + plen + 1, reason);
        return NULL;
}

const char *libvirt_uri_invalid_reason(const char *uri, char reason[static LIBVIRT_URI_REASON_MAX], char *ret_host) {
        char scheme[SCHEME_MAX], host[LIBVIRT_URI_HOST_MAX] = "";
        const char *auth, *path, *why;
        bool is_remote;

        if (ret_host)
                ret_host[0] = 0;
        why = text_invalid_reason(uri);
        if (why)
                return why;
        why = scheme_invalid_reason(uri, scheme, &is_remote, &auth);
        if (why)
                return why;
        why = authority_invalid_reason(auth, is_remote, host, &path);
        if (why)
                return why;
        why = path_invalid_reason(scheme, path, reason);
        if (why)
                return why;
        if (ret_host)
                memcpy(ret_host, host, sizeof host);
        return NULL;
}
