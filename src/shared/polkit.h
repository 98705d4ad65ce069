/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <systemd/sd-bus.h>

/* Asks polkitd, without blocking, whether the sender of a method call may
 * do an action. The one module that speaks polkit's D-Bus API. */

/* Called once with the call the question was about and the answer: 1
 * allowed, 0 refused, negative on failure (error set). */
typedef void (*PolkitDoneFunc)(sd_bus_message *call, int allowed, const sd_bus_error *error, void *userdata);

/* Starts CheckAuthorization for the call's sender (a system-bus-name
 * subject, so polkitd itself vouches for who it is). Interaction is
 * allowed when the caller asked for it. Where no polkitd is on the bus,
 * only uid 0 is allowed, as systemd's services do. */
int polkit_check_async(sd_bus_message *call, const char *action, PolkitDoneFunc done, void *userdata);

/* Whether polkit allowed sender (a unique bus name) action in a call of
 * polkit_authorize_then() within the last five minutes: for what cannot
 * wait for polkit's answer, such as reading a property. */
bool polkit_sender_allowed(const char *sender, const char *action);

/* A method that runs once polkit said yes: it replies now (returning >= 0)
 * or later, or fails (negative, error set or not) and the caller replies
 * with that error. actor is the caller's uid. */
typedef int (*PolkitMethod)(void *userdata, sd_bus_message *msg, uid_t actor, sd_bus_error *error);

/* Asks polkit about action for msg's sender, then runs method, or replies
 * org.vdesk.Error.AccessDenied and journals the refusal. For use as the
 * whole body of an sd-bus method handler: returns 1 (the reply comes
 * later) or a negative errno if the question could not be asked. */
int polkit_authorize_then(sd_bus_message *msg, const char *action, PolkitMethod method, void *userdata);

/* Defines an sd-bus method handler method_NAME that asks polkit for action
 * and then runs NAME(Type *m, msg, actor, error), whose body follows the
 * macro. POLKIT_METHOD_EXPORTED makes method_NAME visible to other files
 * (a vtable elsewhere). */
#define POLKIT_METHOD_WITH(storage, name, Type, action)                                         \
        static int name(Type *m, sd_bus_message *msg, uid_t actor, sd_bus_error *error);        \
        static int name##_authorized(void *userdata, sd_bus_message *msg, uid_t actor,          \
                                     sd_bus_error *error) {                                     \
                return name(userdata, msg, actor, error);                                       \
        }                                                                                       \
        storage int method_##name(sd_bus_message *msg, void *userdata, sd_bus_error *error) {   \
                return polkit_authorize_then(msg, action, name##_authorized, userdata);         \
        }                                                                                       \
        static int name(Type *m, sd_bus_message *msg, uid_t actor, sd_bus_error *error)

#define POLKIT_METHOD(name, Type, action) POLKIT_METHOD_WITH(static, name, Type, action)
#define POLKIT_METHOD_EXPORTED(name, Type, action) POLKIT_METHOD_WITH(, name, Type, action)
