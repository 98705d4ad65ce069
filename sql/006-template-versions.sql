-- SPDX-License-Identifier: LGPL-2.1-or-later
-- Templates are built from ISOs and edited; each commit is a new version
-- (its own file), and a desktop keeps the version its disk was derived
-- from until it is re-issued; a template's newest version is its highest.
-- ISOs are catalogued from the ISO directory.

CREATE TABLE IF NOT EXISTS isos (
        id INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
        name VARCHAR(255) NOT NULL,
        format VARCHAR(16) NOT NULL,
        size BIGINT UNSIGNED NOT NULL,
        registered BOOLEAN NOT NULL DEFAULT TRUE,
        created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
        UNIQUE KEY name (name)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

ALTER TABLE templates
        ADD COLUMN IF NOT EXISTS state VARCHAR(16) NOT NULL DEFAULT 'installed' AFTER format,
        ADD COLUMN IF NOT EXISTS size BIGINT UNSIGNED NOT NULL DEFAULT 0 AFTER state,
        ADD COLUMN IF NOT EXISTS memory_mib INT UNSIGNED NOT NULL DEFAULT 0 AFTER size,
        ADD COLUMN IF NOT EXISTS vcpus INT UNSIGNED NOT NULL DEFAULT 0 AFTER memory_mib,
        ADD COLUMN IF NOT EXISTS os_type VARCHAR(63) NOT NULL DEFAULT '' AFTER vcpus,
        ADD COLUMN IF NOT EXISTS description VARCHAR(1024) NOT NULL DEFAULT '' AFTER os_type,
        ADD COLUMN IF NOT EXISTS iso_id INT UNSIGNED NULL DEFAULT NULL AFTER description,
        ADD CONSTRAINT templates_iso FOREIGN KEY IF NOT EXISTS (iso_id) REFERENCES isos (id) ON DELETE SET NULL;

CREATE TABLE IF NOT EXISTS template_versions (
        id INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
        template_id INT UNSIGNED NOT NULL,
        version INT UNSIGNED NOT NULL,
        path VARCHAR(1024) NOT NULL,
        created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
        UNIQUE KEY template_version (template_id, version),
        UNIQUE KEY path (path),
        CONSTRAINT template_versions_template FOREIGN KEY (template_id) REFERENCES templates (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- A registered template's file is its version 1.
INSERT IGNORE INTO template_versions (template_id, version, path, created_at)
        SELECT id, 1, path, created_at FROM templates;

ALTER TABLE desktops
        ADD COLUMN IF NOT EXISTS template_version_id INT UNSIGNED NULL DEFAULT NULL AFTER template_id;

UPDATE desktops d JOIN template_versions v ON v.template_id = d.template_id AND v.version = 1
        SET d.template_version_id = v.id WHERE d.template_version_id IS NULL;

-- A version a desktop's disk is derived from cannot go.
ALTER TABLE desktops
        MODIFY template_version_id INT UNSIGNED NOT NULL,
        ADD CONSTRAINT desktops_template_version FOREIGN KEY IF NOT EXISTS (template_version_id)
                REFERENCES template_versions (id) ON DELETE RESTRICT;

ALTER TABLE templates
        DROP INDEX IF EXISTS path,
        DROP COLUMN IF EXISTS path;
