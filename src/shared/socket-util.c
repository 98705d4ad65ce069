/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"
#include "socket-util.h"
#include "util.h"

union sockaddr_any {
        struct sockaddr sa;
        struct sockaddr_in in;
        struct sockaddr_in6 in6;
        struct sockaddr_un un;
        struct sockaddr_storage storage;
};

static int parse_spec(const char *spec, union sockaddr_any *ret, socklen_t *ret_len) {
        _cleanup_(freep) char *addr = NULL;
        const char *host, *colon;
        unsigned long port;
        char *end;

        *ret = (union sockaddr_any) {};
        if (spec[0] == '/') {
                if (strlen(spec) >= sizeof ret->un.sun_path)
                        return -ENAMETOOLONG;
                ret->un.sun_family = AF_UNIX;
                strcpy(ret->un.sun_path, spec);
                *ret_len = sizeof ret->un;
                return 0;
        }
        colon = strrchr(spec, ':');
        if (!colon)
                return -EINVAL;
        errno = 0;
        port = strtoul(colon + 1, &end, 10);
        if (errno || *end || colon[1] == 0 || port == 0 || port > 65535)
                return -EINVAL;
        addr = strndup(spec, (size_t) (colon - spec));
        if (!addr)
                return -ENOMEM;
        host = addr;
        if (addr[0] == '[') {
                size_t n = strlen(addr);

                if (n < 2 || addr[n - 1] != ']')
                        return -EINVAL;
                addr[n - 1] = 0;
                host = addr + 1;
                if (inet_pton(AF_INET6, host, &ret->in6.sin6_addr) != 1)
                        return -EINVAL;
                ret->in6.sin6_family = AF_INET6;
                ret->in6.sin6_port = htons((uint16_t) port);
                *ret_len = sizeof ret->in6;
                return 0;
        }
        if (inet_pton(AF_INET, host, &ret->in.sin_addr) != 1)
                return -EINVAL;
        ret->in.sin_family = AF_INET;
        ret->in.sin_port = htons((uint16_t) port);
        *ret_len = sizeof ret->in;
        return 0;
}

int socket_listen_spec(const char *key, const char *spec, int backlog) {
        union sockaddr_any sa;
        socklen_t len;
        int fd, r, one = 1;

        r = parse_spec(spec, &sa, &len);
        if (r == -ENOMEM)
                return log_oom();
        if (r < 0)
                return log_error_errno(r, "%s=%s is not ADDRESS:PORT, [ADDRESS]:PORT or an absolute path", key, spec);
        if (sa.sa.sa_family == AF_UNIX)
                (void) unlink(spec);
        fd = socket(sa.sa.sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return log_error_errno(-errno, "%s=%s: cannot make a socket: %m", key, spec);
        (void) setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (bind(fd, &sa.sa, len) < 0 || listen(fd, backlog) < 0) {
                r = -errno;
                close(fd);
                return log_error_errno(r, "%s=%s: cannot listen there: %m", key, spec);
        }
        return fd;
}

bool socket_is_local(int fd) {
        union sockaddr_any sa = {};
        socklen_t len = sizeof sa;

        if (getsockname(fd, &sa.sa, &len) < 0)
                return false;
        switch (sa.sa.sa_family) {
        case AF_UNIX:
                return true;
        case AF_INET:
                return (ntohl(sa.in.sin_addr.s_addr) >> 24) == 127;
        case AF_INET6:
                if (IN6_IS_ADDR_LOOPBACK(&sa.in6.sin6_addr))
                        return true;
                return IN6_IS_ADDR_V4MAPPED(&sa.in6.sin6_addr) && sa.in6.sin6_addr.s6_addr[12] == 127;
        default:
                return false;
        }
}

void sockaddr_address_text(const struct sockaddr *sa, char ret[static SOCKADDR_TEXT_MAX]) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *) sa;

        if (!sa) {
                strcpy(ret, "unknown");
                return;
        }
        switch (sa->sa_family) {
        case AF_INET:
                (void) inet_ntop(AF_INET, &((const struct sockaddr_in *) sa)->sin_addr, ret, SOCKADDR_TEXT_MAX);
                return;
        case AF_INET6:
                if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr))
                        (void) inet_ntop(AF_INET, &in6->sin6_addr.s6_addr[12], ret, SOCKADDR_TEXT_MAX);
                else
                        (void) inet_ntop(AF_INET6, &in6->sin6_addr, ret, SOCKADDR_TEXT_MAX);
                return;
        case AF_UNIX:
                strcpy(ret, "unix");
                return;
        default:
                strcpy(ret, "unknown");
        }
}
