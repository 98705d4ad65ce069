/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <printf.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>

#define SD_JOURNAL_SUPPRESS_LOCATION
#include <systemd/sd-journal.h>

#include "log.h"

static int max_level = LOG_INFO;
static int echo_stderr = 1;

unsigned long long now_usec(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (unsigned long long) ts.tv_sec * USEC_PER_SEC + ts.tv_nsec / NSEC_PER_USEC;
}

unsigned long long now_realtime_usec(void) {
        struct timespec ts;

        clock_gettime(CLOCK_REALTIME, &ts);
        return (unsigned long long) ts.tv_sec * USEC_PER_SEC + ts.tv_nsec / NSEC_PER_USEC;
}

void format_timestamp_utc(unsigned long long usec, char *buf, size_t size) {
        time_t t = (time_t) (usec / USEC_PER_SEC);
        struct tm tm;

        if (!gmtime_r(&t, &tm) || strftime(buf, size, "%Y-%m-%d %H:%M:%S UTC", &tm) == 0)
                snprintf(buf, size, "@%llu", usec / USEC_PER_SEC);
}

static int level_from_string(const char *s) {
        static const char *const names[] = {
                "emerg", "alert", "crit", "err", "warning", "notice", "info", "debug",
        };

        for (size_t i = 0; i < ELEMENTSOF(names); i++)
                if (streq(s, names[i]))
                        return (int) i;
        return -EINVAL;
}

void log_setup(void) {
        const char *e;
        struct stat st;
        unsigned long long dev, ino;

        e = getenv("VDESK_LOG_LEVEL");
        if (e && level_from_string(e) >= 0)
                max_level = level_from_string(e);

        /* Under systemd with StandardError=journal every stderr line would be
         * logged twice: JOURNAL_STREAM names the stream when that is so. */
        e = getenv("JOURNAL_STREAM");
        if (e && sscanf(e, "%llu:%llu", &dev, &ino) == 2 && fstat(STDERR_FILENO, &st) >= 0 &&
            (unsigned long long) st.st_dev == dev && (unsigned long long) st.st_ino == ino)
                echo_stderr = 0;
}

void log_set_echo_stderr(bool echo) {
        echo_stderr = echo;
}

void log_set_max_level(int level) {
        max_level = level;
}

int log_get_max_level(void) {
        return max_level;
}

int log_internal(int level, int error, const char *file, int line, const char *func,
                 const char *format, ...) {
        char buf[2048];
        va_list ap;
        int saved = errno;

        if (error < 0)
                error = -error;
        if (level > max_level)
                return -error;

        /* %m in the format refers to the error being logged. */
        errno = error;
        va_start(ap, format);
        vsnprintf(buf, sizeof buf, format, ap);
        va_end(ap);

        sd_journal_send("MESSAGE=%s", buf,
                        "PRIORITY=%i", level,
                        "SYSLOG_IDENTIFIER=%s", program_invocation_short_name,
                        "CODE_FILE=%s", file,
                        "CODE_LINE=%i", line,
                        "CODE_FUNC=%s", func,
                        error > 0 ? "ERRNO=%i" : NULL, error,
                        NULL);
        if (echo_stderr)
                fprintf(stderr, "%s\n", buf);

        errno = saved;
        return -error;
}

/* Moves ap past the arguments that format consumes. vasprintf() works on a
 * copy, since the state of a va_list handed to it is unspecified afterwards. */
static int va_format_advance(const char *format, va_list *ap) {
        int types[64];
        size_t n;

        n = parse_printf_format(format, ELEMENTSOF(types), types);
        if (n > ELEMENTSOF(types))
                return -E2BIG;

        for (size_t i = 0; i < n; i++) {
                int t = types[i];

                if (t & PA_FLAG_PTR) {
                        (void) va_arg(*ap, void *);
                        continue;
                }
                switch (t & ~PA_FLAG_MASK) {
                case PA_INT:
                case PA_CHAR:
                        if (t & PA_FLAG_LONG_LONG)
                                (void) va_arg(*ap, long long);
                        else if (t & PA_FLAG_LONG)
                                (void) va_arg(*ap, long);
                        else
                                (void) va_arg(*ap, int);
                        break;
                case PA_WCHAR:
                        (void) va_arg(*ap, int);
                        break;
                case PA_STRING:
                case PA_WSTRING:
                case PA_POINTER:
                        (void) va_arg(*ap, void *);
                        break;
                case PA_FLOAT:
                case PA_DOUBLE:
                        if (t & PA_FLAG_LONG_DOUBLE)
                                (void) va_arg(*ap, long double);
                        else
                                (void) va_arg(*ap, double);
                        break;
                default:
                        return -EINVAL;
                }
        }
        return 0;
}

int log_event_internal(int level, const char *message_id, const char *file, int line,
                       const char *func, const char *format, ...) {
        enum { MAX_FIELDS = 32 };
        char *fields[MAX_FIELDS + 7] = {};
        struct iovec iov[MAX_FIELDS + 7];
        const char *message = NULL;
        size_t n = 0;
        va_list ap;
        int r = 0;

        if (level > max_level)
                return 0;

        va_start(ap, format);
        for (const char *f = format; f; f = va_arg(ap, const char *)) {
                va_list aq;

                if (n >= MAX_FIELDS) {
                        r = -E2BIG;
                        break;
                }
                va_copy(aq, ap);
                if (vasprintf(&fields[n], f, aq) < 0) {
                        fields[n] = NULL;
                        va_end(aq);
                        r = -ENOMEM;
                        break;
                }
                va_end(aq);
                r = va_format_advance(f, &ap);
                if (r < 0)
                        break;
                if (startswith(fields[n], "MESSAGE="))
                        message = fields[n] + strlen("MESSAGE=");
                n++;
        }
        va_end(ap);

        if (r >= 0 &&
            (asprintf(&fields[n++], "MESSAGE_ID=%s", message_id) < 0 ||
             asprintf(&fields[n++], "PRIORITY=%i", level) < 0 ||
             asprintf(&fields[n++], "SYSLOG_IDENTIFIER=%s", program_invocation_short_name) < 0 ||
             asprintf(&fields[n++], "CODE_FILE=%s", file) < 0 ||
             asprintf(&fields[n++], "CODE_LINE=%i", line) < 0 ||
             asprintf(&fields[n++], "CODE_FUNC=%s", func) < 0))
                r = -ENOMEM;

        if (r >= 0) {
                for (size_t i = 0; i < n; i++)
                        iov[i] = (struct iovec) { fields[i], strlen(fields[i]) };
                r = sd_journal_sendv(iov, (int) n);
                if (echo_stderr && message)
                        fprintf(stderr, "%s\n", message);
        }

        for (size_t i = 0; i < ELEMENTSOF(fields); i++)
                free(fields[i]);
        return r;
}
