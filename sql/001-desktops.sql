-- SPDX-License-Identifier: LGPL-2.1-or-later
-- The first schema: accounts, templates and desktops with their addresses
-- and forwarded ports. Unique keys make two desktops with one name, address,
-- MAC or port impossible, whatever the callers do.

CREATE TABLE IF NOT EXISTS accounts (
        id INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
        name VARCHAR(63) NOT NULL,
        full_name VARCHAR(255) NOT NULL DEFAULT '',
        created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
        UNIQUE KEY name (name)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS templates (
        id INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
        name VARCHAR(63) NOT NULL,
        path VARCHAR(1024) NOT NULL,
        format VARCHAR(8) NOT NULL,
        created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
        UNIQUE KEY name (name),
        UNIQUE KEY path (path)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS desktops (
        id INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
        name VARCHAR(63) NOT NULL,
        uuid CHAR(36) NOT NULL,
        account_id INT UNSIGNED NOT NULL,
        template_id INT UNSIGNED NOT NULL,
        disk_path VARCHAR(1024) NOT NULL,
        address INT UNSIGNED NOT NULL,
        mac CHAR(17) NOT NULL,
        rdp_port SMALLINT UNSIGNED NOT NULL,
        state VARCHAR(16) NOT NULL DEFAULT 'defined',
        created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
        updated_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
        UNIQUE KEY name (name),
        UNIQUE KEY uuid (uuid),
        UNIQUE KEY address (address),
        UNIQUE KEY mac (mac),
        UNIQUE KEY rdp_port (rdp_port),
        KEY account_id (account_id),
        CONSTRAINT desktops_account FOREIGN KEY (account_id) REFERENCES accounts (id),
        CONSTRAINT desktops_template FOREIGN KEY (template_id) REFERENCES templates (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
