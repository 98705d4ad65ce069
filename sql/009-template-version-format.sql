-- SPDX-License-Identifier: LGPL-2.1-or-later
-- Each template version's disk format, recorded when the version is
-- registered or made: a raw version's first bytes are its guest's, so its
-- format is never read from the file again. A template's versions were
-- all made in the template's format.

ALTER TABLE template_versions
        ADD COLUMN IF NOT EXISTS format VARCHAR(8) NOT NULL DEFAULT '' AFTER path;

UPDATE template_versions v JOIN templates t ON t.id = v.template_id
        SET v.format = t.format WHERE v.format = '';

-- No default: a version is recorded with its format or not at all.
ALTER TABLE template_versions
        MODIFY format VARCHAR(8) NOT NULL,
        ADD CONSTRAINT IF NOT EXISTS template_versions_format CHECK (format IN ('raw', 'qcow2'));
