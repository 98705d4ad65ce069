/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <stdio.h>

#include "macro.h"
#include "rdp.h"

int rdp_file_render(const RdpTarget *t, char **ret) {
        _cleanup_(freep) char *out = NULL;
        size_t size = 0;
        FILE *f;

        f = open_memstream(&out, &size);
        if (!f)
                return -ENOMEM;
        /* Names are vdesk names ([A-Za-z0-9._-]) and the host an address,
         * so nothing here needs quoting. */
        fprintf(f, "full address:s:%s:%u\r\n", t->host, t->port);
        fprintf(f, "username:s:%s\r\n", t->username);
        fprintf(f, "prompt for credentials:i:1\r\n");
        fprintf(f, "authentication level:i:2\r\n");
        fprintf(f, "screen mode id:i:2\r\n");
        fprintf(f, "redirectprinters:i:%d\r\n", t->printers);
        fprintf(f, "redirectclipboard:i:%d\r\n", t->clipboard);
        fprintf(f, "redirectdrives:i:%d\r\n", t->drives);
        fprintf(f, "drivestoredirect:s:%s\r\n", t->drives ? "*" : "");
        fprintf(f, "usbdevicestoredirect:s:%s\r\n", t->usb ? "*" : "");
        fprintf(f, "redirectsmartcards:i:0\r\n");
        fprintf(f, "audiomode:i:0\r\n");
        if (fclose(f) != 0)
                return -ENOMEM;
        *ret = TAKE_PTR(out);
        return 0;
}

int rdp_freerdp_command(const RdpTarget *t, char **ret) {
        if (asprintf(ret, "xfreerdp /v:%s:%u /u:%s /t:%s%s%s%s%s",
                     t->host, t->port, t->username, t->desktop,
                     t->clipboard ? " +clipboard" : " -clipboard",
                     t->drives ? " /drive:home,~" : "",
                     t->printers ? " /printer" : "",
                     t->usb ? " /usb:auto" : "") < 0)
                return -ENOMEM;
        return 0;
}
