/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdlib.h>
#include <syslog.h>

#include "macro.h"
#include "message-id.h"

/* Logging to the journal, echoed to stderr unless stderr already is the
 * journal. Library code (src/shared) logs only at debug level and returns
 * errors; daemons log once where they handle them. */

/* Reads $VDESK_LOG_LEVEL (debug, info, ...) and whether stderr is the journal. */
void log_setup(void);
void log_set_max_level(int level);
/* Whether lines are echoed to stderr besides the journal (a program that
 * writes its own stderr for a person, as the hook does, turns it off). */
void log_set_echo_stderr(bool echo);
int log_get_max_level(void);

/* Logs a formatted line; returns -abs(error) so callers can `return log_..._errno()`. */
int log_internal(int level, int error, const char *file, int line, const char *func,
                 const char *format, ...) _printf_(6, 7);

/* Logs one structured entry: the variadic part is "FIELD=format", args...,
 * terminated by NULL (added by the macro), and must contain a MESSAGE= field. */
int log_event_internal(int level, const char *message_id, const char *file, int line,
                       const char *func, const char *format, ...) _sentinel_;

#define log_full_errno(level, error, ...) \
        log_internal(level, error, __FILE__, __LINE__, __func__, __VA_ARGS__)
#define log_debug(...)   log_full_errno(LOG_DEBUG, 0, __VA_ARGS__)
#define log_info(...)    log_full_errno(LOG_INFO, 0, __VA_ARGS__)
#define log_notice(...)  log_full_errno(LOG_NOTICE, 0, __VA_ARGS__)
#define log_warning(...) log_full_errno(LOG_WARNING, 0, __VA_ARGS__)
#define log_error(...)   log_full_errno(LOG_ERR, 0, __VA_ARGS__)
#define log_debug_errno(e, ...)   log_full_errno(LOG_DEBUG, e, __VA_ARGS__)
#define log_warning_errno(e, ...) log_full_errno(LOG_WARNING, e, __VA_ARGS__)
#define log_error_errno(e, ...)   log_full_errno(LOG_ERR, e, __VA_ARGS__)

#define log_event(level, message_id, ...) \
        log_event_internal(level, message_id, __FILE__, __LINE__, __func__, __VA_ARGS__, NULL)

#define log_oom() log_error_errno(ENOMEM, "Out of memory.")
