/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <systemd/sd-bus.h>

/* vdesk's named D-Bus errors. Each maps to an errno so that model code can
 * return a plain negative errno and the D-Bus layer still says which error;
 * clients match the names, busctl prints them. */

#define VDESK_ERROR_INVALID_ARGS        SD_BUS_ERROR_INVALID_ARGS
#define VDESK_ERROR_NO_SUCH_DESKTOP     "org.vdesk.Error.NoSuchDesktop"
#define VDESK_ERROR_NO_SUCH_TEMPLATE    "org.vdesk.Error.NoSuchTemplate"
#define VDESK_ERROR_NO_SUCH_ACCOUNT     "org.vdesk.Error.NoSuchAccount"
#define VDESK_ERROR_NO_SUCH_FORWARD     "org.vdesk.Error.NoSuchForward"
#define VDESK_ERROR_NO_SUCH_DISK        "org.vdesk.Error.NoSuchDisk"
#define VDESK_ERROR_DESKTOP_EXISTS      "org.vdesk.Error.DesktopExists"
#define VDESK_ERROR_TEMPLATE_EXISTS     "org.vdesk.Error.TemplateExists"
#define VDESK_ERROR_FORWARD_CONFLICT    "org.vdesk.Error.ForwardConflict"
#define VDESK_ERROR_FORWARD_REFUSED     "org.vdesk.Error.ForwardRefused"
#define VDESK_ERROR_BACKING_MISMATCH    "org.vdesk.Error.BackingMismatch"
#define VDESK_ERROR_PATH_NOT_ALLOWED    "org.vdesk.Error.PathNotAllowed"
#define VDESK_ERROR_PORTS_EXHAUSTED     "org.vdesk.Error.PortsExhausted"
#define VDESK_ERROR_ADDRESSES_EXHAUSTED "org.vdesk.Error.AddressesExhausted"
#define VDESK_ERROR_DESKTOP_RUNNING     "org.vdesk.Error.DesktopRunning"
#define VDESK_ERROR_NOT_READY           "org.vdesk.Error.NotReady"
#define VDESK_ERROR_HYPERVISOR          "org.vdesk.Error.Hypervisor"
#define VDESK_ERROR_DATABASE            "org.vdesk.Error.Database"
#define VDESK_ERROR_ACCESS_DENIED       "org.vdesk.Error.AccessDenied"
#define VDESK_ERROR_ACCOUNT_EXISTS      "org.vdesk.Error.AccountExists"
#define VDESK_ERROR_ACCOUNT_IN_USE      "org.vdesk.Error.AccountInUse"
#define VDESK_ERROR_WEAK_PASSWORD       "org.vdesk.Error.WeakPassword"
#define VDESK_ERROR_NO_SUCH_DEPARTMENT  "org.vdesk.Error.NoSuchDepartment"
#define VDESK_ERROR_AUTHENTICATION_FAILED "org.vdesk.Error.AuthenticationFailed"
#define VDESK_ERROR_ACCOUNT_LOCKED      "org.vdesk.Error.AccountLocked"
/* A source (an address a front end named, or a caller's uid) failed too
 * many sign-ins lately and is refused for a while; the account is not. */
#define VDESK_ERROR_TOO_MANY_ATTEMPTS   "org.vdesk.Error.TooManyAttempts"
#define VDESK_ERROR_INVALID_TOKEN       "org.vdesk.Error.InvalidToken"
#define VDESK_ERROR_DEPARTMENT_EXISTS   "org.vdesk.Error.DepartmentExists"
#define VDESK_ERROR_DEPARTMENT_IN_USE   "org.vdesk.Error.DepartmentInUse"
#define VDESK_ERROR_NO_SUCH_CATEGORY    "org.vdesk.Error.NoSuchCategory"
#define VDESK_ERROR_CATEGORY_EXISTS     "org.vdesk.Error.CategoryExists"
#define VDESK_ERROR_CATEGORY_IN_USE     "org.vdesk.Error.CategoryInUse"
#define VDESK_ERROR_NOT_LINKED          "org.vdesk.Error.NotLinked"
#define VDESK_ERROR_IMPORT_REJECTED     "org.vdesk.Error.ImportRejected"
#define VDESK_ERROR_NOT_YOUR_DESKTOP    "org.vdesk.Error.NotYourDesktop"
#define VDESK_ERROR_NO_SUCH_NETWORK     "org.vdesk.Error.NoSuchNetwork"
#define VDESK_ERROR_BAD_IMAGE           "org.vdesk.Error.BadImage"
#define VDESK_ERROR_NO_EDIT             "org.vdesk.Error.NoEdit"
#define VDESK_ERROR_NO_SUCH_ISO         "org.vdesk.Error.NoSuchIso"
#define VDESK_ERROR_NOT_AN_ISO          "org.vdesk.Error.NotAnIso"
#define VDESK_ERROR_TEMPLATE_BUSY       "org.vdesk.Error.TemplateBusy"
#define VDESK_ERROR_TEMPLATE_IN_USE     "org.vdesk.Error.TemplateInUse"
#define VDESK_ERROR_TEMPLATE_NOT_INSTALLED "org.vdesk.Error.TemplateNotInstalled"
#define VDESK_ERROR_TEMPLATE_RUNNING    "org.vdesk.Error.TemplateRunning"
#define VDESK_ERROR_NETWORK_EXISTS      "org.vdesk.Error.NetworkExists"
#define VDESK_ERROR_NETWORK_OVERLAP     "org.vdesk.Error.NetworkOverlap"
#define VDESK_ERROR_SEGMENT_TAKEN       "org.vdesk.Error.SegmentTaken"
#define VDESK_ERROR_NETWORK_IN_USE      "org.vdesk.Error.NetworkInUse"
#define VDESK_ERROR_NO_SUCH_UPLINK      "org.vdesk.Error.NoSuchUplink"
#define VDESK_ERROR_LINK_CONFLICT       "org.vdesk.Error.LinkConflict"
#define VDESK_ERROR_NO_SUCH_HOST        "org.vdesk.Error.NoSuchHost"
#define VDESK_ERROR_HOST_EXISTS         "org.vdesk.Error.HostExists"
#define VDESK_ERROR_HOST_IN_USE         "org.vdesk.Error.HostInUse"
#define VDESK_ERROR_HOST_DOWN           "org.vdesk.Error.HostDown"
#define VDESK_ERROR_HOST_UNREACHABLE    "org.vdesk.Error.HostUnreachable"
#define VDESK_ERROR_NO_HOST_AVAILABLE   "org.vdesk.Error.NoHostAvailable"
#define VDESK_ERROR_NO_SUCH_CLUSTER     "org.vdesk.Error.NoSuchCluster"
#define VDESK_ERROR_NO_SUCH_JOB         "org.vdesk.Error.NoSuchJob"
#define VDESK_ERROR_CLUSTER_EXISTS      "org.vdesk.Error.ClusterExists"
#define VDESK_ERROR_CLUSTER_IN_USE      "org.vdesk.Error.ClusterInUse"
#define VDESK_ERROR_CLUSTER_FULL        "org.vdesk.Error.ClusterFull"

/* InvalidArgs "Invalid FIELD: reason" unless value is a valid vdesk name
 * (util.h's name rules); 0 if it is. */
int bus_error_check_name(sd_bus_error *e, const char *field, const char *value);
/* The same for free text (a description): valid UTF-8 of at most max
 * bytes without control characters; may be empty. */
int bus_error_check_text(sd_bus_error *e, const char *field, const char *value, size_t max);

/* Registers the map with sd-bus; call once before using the names. */
int bus_error_register(void);

/* Sets e to the named error with a formatted message; returns -errno of the
 * name (so `return bus_error_setf(...)` ends a handler). */
int bus_error_setf(sd_bus_error *e, const char *name, const char *format, ...)
        __attribute__((format(printf, 3, 4)));
