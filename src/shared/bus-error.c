/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>
#include <stdarg.h>

#include "bus-error.h"
#include "util.h"

static const sd_bus_error_map vdesk_errors[] = {
        SD_BUS_ERROR_MAP(VDESK_ERROR_NO_SUCH_DESKTOP,     ENOENT),
        SD_BUS_ERROR_MAP(VDESK_ERROR_NO_SUCH_TEMPLATE,    ENOENT),
        SD_BUS_ERROR_MAP(VDESK_ERROR_NO_SUCH_ACCOUNT,     ENOENT),
        SD_BUS_ERROR_MAP(VDESK_ERROR_NO_SUCH_FORWARD,     ENOENT),
        SD_BUS_ERROR_MAP(VDESK_ERROR_NO_SUCH_DISK,        ENOENT),
        SD_BUS_ERROR_MAP(VDESK_ERROR_DESKTOP_EXISTS,      EEXIST),
        SD_BUS_ERROR_MAP(VDESK_ERROR_TEMPLATE_EXISTS,     EEXIST),
        SD_BUS_ERROR_MAP(VDESK_ERROR_FORWARD_CONFLICT,    EBUSY),
        SD_BUS_ERROR_MAP(VDESK_ERROR_FORWARD_REFUSED,     EPERM),
        SD_BUS_ERROR_MAP(VDESK_ERROR_BACKING_MISMATCH,    EEXIST),
        SD_BUS_ERROR_MAP(VDESK_ERROR_PATH_NOT_ALLOWED,    EPERM),
        SD_BUS_ERROR_MAP(VDESK_ERROR_PORTS_EXHAUSTED,     ENOSPC),
        SD_BUS_ERROR_MAP(VDESK_ERROR_ADDRESSES_EXHAUSTED, ENOSPC),
        SD_BUS_ERROR_MAP(VDESK_ERROR_DESKTOP_RUNNING,     EBUSY),
        SD_BUS_ERROR_MAP(VDESK_ERROR_NOT_READY,           ETIMEDOUT),
        SD_BUS_ERROR_MAP(VDESK_ERROR_HYPERVISOR,          EIO),
        SD_BUS_ERROR_MAP(VDESK_ERROR_DATABASE,            EIO),
        SD_BUS_ERROR_MAP(VDESK_ERROR_ACCESS_DENIED,       EACCES),
        SD_BUS_ERROR_MAP(VDESK_ERROR_ACCOUNT_EXISTS,      EEXIST),
        SD_BUS_ERROR_MAP(VDESK_ERROR_ACCOUNT_IN_USE,      EBUSY),
        SD_BUS_ERROR_MAP(VDESK_ERROR_WEAK_PASSWORD,       EINVAL),
        SD_BUS_ERROR_MAP(VDESK_ERROR_NO_SUCH_DEPARTMENT,  ENOENT),
        SD_BUS_ERROR_MAP(VDESK_ERROR_AUTHENTICATION_FAILED, EACCES),
        SD_BUS_ERROR_MAP(VDESK_ERROR_ACCOUNT_LOCKED,      EACCES),
        SD_BUS_ERROR_MAP(VDESK_ERROR_TOO_MANY_ATTEMPTS,   EBUSY),
        SD_BUS_ERROR_MAP(VDESK_ERROR_INVALID_TOKEN,       EACCES),
        SD_BUS_ERROR_MAP(VDESK_ERROR_DEPARTMENT_EXISTS,   EEXIST),
        SD_BUS_ERROR_MAP(VDESK_ERROR_DEPARTMENT_IN_USE,   EBUSY),
        SD_BUS_ERROR_MAP(VDESK_ERROR_NO_SUCH_CATEGORY,    ENOENT),
        SD_BUS_ERROR_MAP(VDESK_ERROR_CATEGORY_EXISTS,     EEXIST),
        SD_BUS_ERROR_MAP(VDESK_ERROR_CATEGORY_IN_USE,     EBUSY),
        SD_BUS_ERROR_MAP(VDESK_ERROR_NOT_LINKED,          ENOENT),
        SD_BUS_ERROR_MAP(VDESK_ERROR_IMPORT_REJECTED,     EINVAL),
        SD_BUS_ERROR_MAP(VDESK_ERROR_NOT_YOUR_DESKTOP,    EACCES),
        SD_BUS_ERROR_MAP(VDESK_ERROR_NO_SUCH_NETWORK,     ENOENT),
        SD_BUS_ERROR_MAP(VDESK_ERROR_BAD_IMAGE,           EBADMSG),
        SD_BUS_ERROR_MAP(VDESK_ERROR_NO_EDIT,             ENOENT),
        SD_BUS_ERROR_MAP(VDESK_ERROR_NO_SUCH_ISO,         ENOENT),
        SD_BUS_ERROR_MAP(VDESK_ERROR_NOT_AN_ISO,          EMEDIUMTYPE),
        SD_BUS_ERROR_MAP(VDESK_ERROR_TEMPLATE_BUSY,       EBUSY),
        SD_BUS_ERROR_MAP(VDESK_ERROR_TEMPLATE_IN_USE,     EBUSY),
        SD_BUS_ERROR_MAP(VDESK_ERROR_TEMPLATE_NOT_INSTALLED, EAGAIN),
        SD_BUS_ERROR_MAP(VDESK_ERROR_TEMPLATE_RUNNING,    EBUSY),
        SD_BUS_ERROR_MAP(VDESK_ERROR_NETWORK_EXISTS,      EEXIST),
        SD_BUS_ERROR_MAP(VDESK_ERROR_NETWORK_OVERLAP,     EADDRINUSE),
        SD_BUS_ERROR_MAP(VDESK_ERROR_SEGMENT_TAKEN,       EADDRINUSE),
        SD_BUS_ERROR_MAP(VDESK_ERROR_NETWORK_IN_USE,      EBUSY),
        SD_BUS_ERROR_MAP(VDESK_ERROR_NO_SUCH_UPLINK,      ENODEV),
        SD_BUS_ERROR_MAP(VDESK_ERROR_LINK_CONFLICT,       EEXIST),
        SD_BUS_ERROR_MAP(VDESK_ERROR_NO_SUCH_HOST,        ENOENT),
        SD_BUS_ERROR_MAP(VDESK_ERROR_HOST_EXISTS,         EEXIST),
        SD_BUS_ERROR_MAP(VDESK_ERROR_HOST_IN_USE,         EBUSY),
        SD_BUS_ERROR_MAP(VDESK_ERROR_HOST_DOWN,           EHOSTDOWN),
        SD_BUS_ERROR_MAP(VDESK_ERROR_HOST_UNREACHABLE,    EHOSTUNREACH),
        SD_BUS_ERROR_MAP(VDESK_ERROR_NO_HOST_AVAILABLE,   ENOSPC),
        SD_BUS_ERROR_MAP(VDESK_ERROR_NO_SUCH_CLUSTER,     ENOENT),
        SD_BUS_ERROR_MAP(VDESK_ERROR_NO_SUCH_JOB,         ENOENT),
        SD_BUS_ERROR_MAP(VDESK_ERROR_CLUSTER_EXISTS,      EEXIST),
        SD_BUS_ERROR_MAP(VDESK_ERROR_CLUSTER_IN_USE,      EBUSY),
        SD_BUS_ERROR_MAP(VDESK_ERROR_CLUSTER_FULL,        ENOSPC),
        SD_BUS_ERROR_MAP_END
};

int bus_error_register(void) {
        int r = sd_bus_error_add_map(vdesk_errors);
        return r < 0 ? r : 0;
}

int bus_error_setf(sd_bus_error *e, const char *name, const char *format, ...) {
        va_list ap;
        int r;

        va_start(ap, format);
        r = sd_bus_error_setfv(e, name, format, ap);
        va_end(ap);
        return r;
}

int bus_error_check_name(sd_bus_error *e, const char *field, const char *value) {
        const char *why = name_invalid_reason(value);

        return why ? bus_error_setf(e, SD_BUS_ERROR_INVALID_ARGS, "Invalid %s: %s", field, why) : 0;
}

int bus_error_check_text(sd_bus_error *e, const char *field, const char *value, size_t max) {
        if (strlen(value) > max)
                return bus_error_setf(e, SD_BUS_ERROR_INVALID_ARGS, "Invalid %s: is longer than %zu bytes", field, max);
        if (!utf8_is_valid(value))
                return bus_error_setf(e, SD_BUS_ERROR_INVALID_ARGS, "Invalid %s: is not valid UTF-8", field);
        if (string_has_control(value))
                return bus_error_setf(e, SD_BUS_ERROR_INVALID_ARGS, "Invalid %s: contains control characters", field);
        return 0;
}
