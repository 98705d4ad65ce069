/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include "libvirt-uri.h"
#include "log.h"
#include "macro.h"
#include "virt.h"

static void silence(void *userdata, virErrorPtr error) {
        /* libvirt prints every error to stderr by default; we log once. */
}

int virt_running_domain_xmls(const char *uri, char ***ret) {
        virConnectPtr conn;
        virDomainPtr *doms = NULL;
        char why[LIBVIRT_URI_REASON_MAX];
        char **xmls;
        int n, k = 0;

        /* [Libvirt] URI= was checked as the configuration was read; once
         * more where it is opened */
        if (libvirt_uri_invalid_reason(uri, why, NULL))
                return -EINVAL;
        virSetErrorFunc(NULL, silence);
        conn = virConnectOpenReadOnly(uri);
        if (!conn) {
                log_debug("Cannot connect to %s: %s", uri, virGetLastErrorMessage());
                return -ECONNREFUSED;
        }
        n = virConnectListAllDomains(conn, &doms, VIR_CONNECT_LIST_DOMAINS_ACTIVE);
        if (n < 0) {
                virConnectClose(conn);
                return -EIO;
        }
        xmls = calloc((size_t) n + 1, sizeof(char *));
        for (int i = 0; i < n; i++) {
                if (xmls) {
                        /* A domain that stopped meanwhile simply has no XML. */
                        char *x = virDomainGetXMLDesc(doms[i], 0);
                        if (x)
                                xmls[k++] = x;
                }
                virDomainFree(doms[i]);
        }
        free(doms);
        virConnectClose(conn);
        if (!xmls)
                return -ENOMEM;
        *ret = xmls;
        return 0;
}
