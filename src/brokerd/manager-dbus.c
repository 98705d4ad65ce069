/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* The broker's face on the bus: the Manager object's vtable, gathered
 * from the -dbus files of each thing. Every method but the staff's is an
 * admin's, authorized by polkit (see those files). */

#include <assert.h>

#include "bus-api.h"
#include "bus-error.h"
#include "db.h"
#include "desktop-dbus.h"
#include "host-dbus.h"
#include "iso-dbus.h"
#include "job-dbus.h"
#include "manager.h"
#include "manager-dbus.h"
#include "network-dbus.h"
#include "network-spec.h"
#include "object-dbus.h"
#include "pool-dbus.h"
#include "polkit.h"
#include "staff-dbus.h"
#include "template-dbus.h"
#include "util.h"

#define AUTHORIZED_READ(name) POLKIT_METHOD(name, Manager, BROKERD_ACTION_READ)

/* What a Get<Kind>Object of a name that is not there fails with. */
static const char *const object_missing_error[_OBJECT_KIND_MAX] = {
        [OBJECT_DESKTOP] = VDESK_ERROR_NO_SUCH_DESKTOP,
        [OBJECT_TEMPLATE] = VDESK_ERROR_NO_SUCH_TEMPLATE,
        [OBJECT_HOST] = VDESK_ERROR_NO_SUCH_HOST,
        [OBJECT_NETWORK] = VDESK_ERROR_NO_SUCH_NETWORK,
        [OBJECT_CLUSTER] = VDESK_ERROR_NO_SUCH_CLUSTER,
        [OBJECT_JOB] = VDESK_ERROR_NO_SUCH_JOB,
};

/* ---- the objects' paths ------------------------------------------------------------ */

static const BusObjectType *const object_types[] = {
        &desktop_object_type,
        &template_object_type,
        &host_object_type,
        &network_object_type,
        &cluster_object_type,
        &job_object_type,
};

/* The kind a Get<Kind>Object or List<Kind>Objects call is about. */
static const BusObjectType *object_type_of(sd_bus_message *msg) {
        static const char *const kinds[_OBJECT_KIND_MAX] = {
                [OBJECT_DESKTOP] = "Desktop",
                [OBJECT_TEMPLATE] = "Template",
                [OBJECT_HOST] = "Host",
                [OBJECT_NETWORK] = "Network",
                [OBJECT_CLUSTER] = "Cluster",
                [OBJECT_JOB] = "Job",
        };
        const char *member = sd_bus_message_get_member(msg), *rest;

        rest = startswith(member, "Get") ?: startswith(member, "List");
        for (size_t i = 0; rest && i < ELEMENTSOF(object_types); i++) {
                const char *kind = kinds[object_types[i]->kind];
                size_t n = strlen(kind);

                if (strncmp(rest, kind, n) == 0 && startswith(rest + n, "Object"))
                        return object_types[i];
        }
        return NULL;
}

/* Get<Kind>Object: the path of the thing called name. */
AUTHORIZED_READ(get_object) {
        const BusObjectType *t = object_type_of(msg);
        _cleanup_(freep) char *path = NULL;
        const char *name;
        void *slot;
        int r;

        assert(t);
        r = sd_bus_message_read(msg, "s", &name);
        if (r >= 0)
                r = bus_error_check_name(error, "name", name);
        if (r < 0)
                return r;
        r = t->load(m, name, &slot);
        if (r < 0)
                return db_bus_error(m->db, r, error);
        if (r == 0)
                return bus_error_setf(error, object_missing_error[t->kind], "No %s '%s'",
                                      object_kind_to_string(t->kind), name);
        r = sd_bus_path_encode(t->prefix, name, &path);
        if (r < 0)
                return r;
        return sd_bus_reply_method_return(msg, "o", path);
}

/* List<Kind>Objects: every thing of the kind, (name, path), by name. */
AUTHORIZED_READ(list_objects) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        const BusObjectType *t = object_type_of(msg);
        _cleanup_(strv_freep) char **names = NULL;
        int r;

        assert(t);
        r = t->list(m, &names);
        if (r < 0)
                return db_bus_error(m->db, r, error);
        r = sd_bus_message_new_method_return(msg, &reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "(so)");
        for (char **n = names; r >= 0 && n && *n; n++) {
                _cleanup_(freep) char *path = NULL;

                r = sd_bus_path_encode(t->prefix, *n, &path);
                if (r >= 0)
                        r = sd_bus_message_append(reply, "(so)", *n, path);
        }
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

#define OBJECT_METHODS(kind)                                                                     \
        SD_BUS_METHOD_WITH_ARGS("Get" kind "Object",                                             \
                                SD_BUS_ARGS("s", name),                                          \
                                SD_BUS_RESULT("o", path),                                        \
                                method_get_object, SD_BUS_VTABLE_UNPRIVILEGED),                  \
        SD_BUS_METHOD_WITH_ARGS("List" kind "Objects",                                           \
                                SD_BUS_NO_ARGS,                                                  \
                                SD_BUS_RESULT("a(so)", objects),                                 \
                                method_list_objects, SD_BUS_VTABLE_UNPRIVILEGED)

static const sd_bus_vtable manager_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_METHOD_WITH_ARGS("ListIsos",
                                SD_BUS_NO_ARGS,
                                SD_BUS_RESULT("a" ISO_SIGNATURE, isos),
                                method_list_isos, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("RefreshIsos",
                                SD_BUS_NO_ARGS,
                                SD_BUS_RESULT("u", added, "u", removed),
                                method_refresh_isos, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("RegisterIso",
                                SD_BUS_ARGS("s", name),
                                SD_BUS_NO_RESULT,
                                method_register_iso, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("UnregisterIso",
                                SD_BUS_ARGS("s", name),
                                SD_BUS_NO_RESULT,
                                method_unregister_iso, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("RegisterTemplate",
                                SD_BUS_ARGS("s", name, "s", path),
                                SD_BUS_NO_RESULT,
                                method_register_template, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("ListTemplates",
                                SD_BUS_NO_ARGS,
                                SD_BUS_RESULT("a" TEMPLATE_SIGNATURE, templates),
                                method_list_templates, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("GetTemplate",
                                SD_BUS_ARGS("s", name),
                                SD_BUS_RESULT(TEMPLATE_SIGNATURE, template),
                                method_get_template, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("ListTemplateVersions",
                                SD_BUS_ARGS("s", name),
                                SD_BUS_RESULT("a" TEMPLATE_VERSION_SIGNATURE, versions),
                                method_list_template_versions, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("CreateTemplate",
                                SD_BUS_ARGS("s", name, "x", size, "s", format, "s", iso, "u", memory_mib, "u", vcpus,
                                            "s", description, "s", os_type),
                                SD_BUS_RESULT(CONSOLE_SIGNATURE, console),
                                method_create_template, SD_BUS_VTABLE_UNPRIVILEGED | SD_BUS_VTABLE_SENSITIVE),
        SD_BUS_METHOD_WITH_ARGS("TemplateConsole",
                                SD_BUS_ARGS("s", name),
                                SD_BUS_RESULT(CONSOLE_SIGNATURE, console),
                                method_console_of_template, SD_BUS_VTABLE_UNPRIVILEGED | SD_BUS_VTABLE_SENSITIVE),
        SD_BUS_METHOD_WITH_ARGS("FinishTemplate",
                                SD_BUS_ARGS("s", name, "b", force),
                                SD_BUS_NO_RESULT,
                                method_finish_template, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("EditTemplate",
                                SD_BUS_ARGS("s", name, "s", iso),
                                SD_BUS_RESULT(CONSOLE_SIGNATURE, console),
                                method_edit_template, SD_BUS_VTABLE_UNPRIVILEGED | SD_BUS_VTABLE_SENSITIVE),
        SD_BUS_METHOD_WITH_ARGS("CommitTemplate",
                                SD_BUS_ARGS("s", name, "b", force),
                                SD_BUS_RESULT("u", version),
                                method_commit_template, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("DiscardTemplateEdit",
                                SD_BUS_ARGS("s", name, "b", force),
                                SD_BUS_NO_RESULT,
                                method_discard_template_edit, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("DeleteTemplate",
                                SD_BUS_ARGS("s", name),
                                SD_BUS_NO_RESULT,
                                method_delete_template, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("PruneTemplate",
                                SD_BUS_ARGS("s", name),
                                SD_BUS_RESULT("au", removed_versions),
                                method_prune_template, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("CreateNetwork",
                                SD_BUS_ARGS(NETWORK_SPEC_ARGS),
                                SD_BUS_NO_RESULT,
                                method_create_network, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("ListNetworks",
                                SD_BUS_NO_ARGS,
                                SD_BUS_RESULT("a" NETWORK_SIGNATURE, networks),
                                method_list_networks, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("GetNetwork",
                                SD_BUS_ARGS("s", name),
                                SD_BUS_RESULT(NETWORK_SIGNATURE, network),
                                method_get_network, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("DeleteNetwork",
                                SD_BUS_ARGS("s", name),
                                SD_BUS_NO_RESULT,
                                method_delete_network, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("AssignNetwork",
                                SD_BUS_ARGS("s", network, "s", category),
                                SD_BUS_NO_RESULT,
                                method_category_network, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("ReclaimNetwork",
                                SD_BUS_ARGS("s", network, "s", category),
                                SD_BUS_NO_RESULT,
                                method_category_network, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("CreateCluster",
                                SD_BUS_ARGS("s", name, "u", capacity),
                                SD_BUS_NO_RESULT,
                                method_create_cluster, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("DeleteCluster",
                                SD_BUS_ARGS("s", name),
                                SD_BUS_NO_RESULT,
                                method_delete_cluster, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("ListClusters",
                                SD_BUS_NO_ARGS,
                                SD_BUS_RESULT("a" CLUSTER_SIGNATURE, clusters),
                                method_list_clusters, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("AssignCluster",
                                SD_BUS_ARGS("s", cluster, "s", category),
                                SD_BUS_NO_RESULT,
                                method_category_cluster, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("ReclaimCluster",
                                SD_BUS_ARGS("s", cluster, "s", category),
                                SD_BUS_NO_RESULT,
                                method_category_cluster, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("ListPools",
                                SD_BUS_NO_ARGS,
                                SD_BUS_RESULT("a" POOL_SIGNATURE, pools),
                                method_list_pools, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("AddHost",
                                SD_BUS_ARGS("s", name, "s", uri, "s", cluster, "s", address),
                                SD_BUS_NO_RESULT,
                                method_add_host, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("RemoveHost",
                                SD_BUS_ARGS("s", name),
                                SD_BUS_NO_RESULT,
                                method_remove_host, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("ListHosts",
                                SD_BUS_NO_ARGS,
                                SD_BUS_RESULT("a" HOST_SIGNATURE, hosts),
                                method_list_hosts, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("GetHost",
                                SD_BUS_ARGS("s", name),
                                SD_BUS_RESULT(HOST_SIGNATURE, host),
                                method_get_host, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("SetHostMaintenance",
                                SD_BUS_ARGS("s", name, "b", maintenance),
                                SD_BUS_NO_RESULT,
                                method_set_host_maintenance, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("MoveDesktop",
                                SD_BUS_ARGS("s", name, "s", host),
                                SD_BUS_NO_RESULT,
                                method_move_desktop, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("PlaceDesktop",
                                SD_BUS_ARGS("s", category),
                                SD_BUS_RESULT("s", host, "s", reason),
                                method_place_desktop, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_SIGNAL_WITH_ARGS("HostStateChanged",
                                SD_BUS_ARGS("s", name, "s", state, "s", reason),
                                0),
        SD_BUS_METHOD_WITH_ARGS("CreateDesktop",
                                SD_BUS_ARGS("s", name, "s", account, "s", template),
                                SD_BUS_RESULT(DESKTOP_SIGNATURE, desktop),
                                method_create_desktop, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("GetDesktop",
                                SD_BUS_ARGS("s", name),
                                SD_BUS_RESULT(DESKTOP_SIGNATURE, desktop),
                                method_get_desktop, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("ListDesktops",
                                SD_BUS_NO_ARGS,
                                SD_BUS_RESULT("a" DESKTOP_SIGNATURE, desktops),
                                method_list_desktops, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("StartDesktop",
                                SD_BUS_ARGS("s", name),
                                SD_BUS_NO_RESULT,
                                method_start_desktop, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("StopDesktop",
                                SD_BUS_ARGS("s", name, "b", force),
                                SD_BUS_NO_RESULT,
                                method_stop_desktop, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("ReissueDesktop",
                                SD_BUS_ARGS("s", name),
                                SD_BUS_RESULT("u", template_version),
                                method_reissue_desktop, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("DeleteDesktop",
                                SD_BUS_ARGS("s", name),
                                SD_BUS_NO_RESULT,
                                method_delete_desktop, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("OpenDesktop",
                                SD_BUS_ARGS("s", name),
                                SD_BUS_RESULT("s", host, "q", port, "s", rdp_file, "s", freerdp_command),
                                method_open_desktop, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("ListMyDesktops",
                                SD_BUS_ARGS("s", token),
                                SD_BUS_RESULT("a" DESKTOP_SIGNATURE, desktops, "as", categories_without_desktop),
                                method_list_my_desktops, SD_BUS_VTABLE_UNPRIVILEGED | SD_BUS_VTABLE_SENSITIVE),
        SD_BUS_METHOD_WITH_ARGS("OpenMyDesktop",
                                SD_BUS_ARGS("s", token, "s", name),
                                SD_BUS_RESULT("s", desktop, "s", host, "q", port, "s", rdp_file, "s", freerdp_command),
                                method_open_my_desktop, SD_BUS_VTABLE_UNPRIVILEGED | SD_BUS_VTABLE_SENSITIVE),
        SD_BUS_METHOD_WITH_ARGS("ListMyDesktopDetails",
                                SD_BUS_ARGS("s", token),
                                SD_BUS_RESULT("a" STAFF_DESKTOP_SIGNATURE, desktops, "as", categories_without_desktop),
                                method_list_my_desktop_details, SD_BUS_VTABLE_UNPRIVILEGED | SD_BUS_VTABLE_SENSITIVE),
        SD_BUS_METHOD_WITH_ARGS("RestartMyDesktop",
                                SD_BUS_ARGS("s", token, "s", name),
                                SD_BUS_RESULT("s", desktop, "s", host, "q", port, "s", rdp_file, "s", freerdp_command),
                                method_restart_my_desktop, SD_BUS_VTABLE_UNPRIVILEGED | SD_BUS_VTABLE_SENSITIVE),
        SD_BUS_METHOD_WITH_ARGS("ListManagedDesktops",
                                SD_BUS_ARGS("s", token),
                                SD_BUS_RESULT("a" MANAGED_DESKTOP_SIGNATURE, desktops),
                                method_list_managed_desktops, SD_BUS_VTABLE_UNPRIVILEGED | SD_BUS_VTABLE_SENSITIVE),
        OBJECT_METHODS("Desktop"),
        OBJECT_METHODS("Template"),
        OBJECT_METHODS("Host"),
        OBJECT_METHODS("Network"),
        OBJECT_METHODS("Cluster"),
        OBJECT_METHODS("Job"),
        SD_BUS_METHOD_WITH_ARGS("CreateDesktops",
                                SD_BUS_ARGS("s", category),
                                SD_BUS_RESULT("o", job),
                                method_create_desktops, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("StartDesktops",
                                SD_BUS_ARGS("s", department),
                                SD_BUS_RESULT("o", job),
                                method_start_desktops, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("StopDesktops",
                                SD_BUS_ARGS("s", department, "b", force),
                                SD_BUS_RESULT("o", job),
                                method_stop_desktops, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("ReissueDesktops",
                                SD_BUS_ARGS("s", template),
                                SD_BUS_RESULT("o", job),
                                method_reissue_desktops, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("CancelJob",
                                SD_BUS_ARGS("s", id),
                                SD_BUS_NO_RESULT,
                                method_cancel_job, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_SIGNAL_WITH_ARGS("JobRemoved",
                                SD_BUS_ARGS("u", id, "o", job, "s", kind, "s", target, "s", result, "u", done,
                                            "u", total, "a(sss)", failures),
                                0),
        SD_BUS_VTABLE_END
};

int manager_add_bus_objects(Manager *m) {
        int r;

        r = sd_bus_add_object_vtable(m->bus, NULL, BROKERD_OBJECT_PATH, BROKERD_INTERFACE, manager_vtable, m);
        if (r >= 0)
                r = bus_objects_register(m, object_types, ELEMENTSOF(object_types));
        m->events.job_finished = job_send_removed;
        return r;
}
