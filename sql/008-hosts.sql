-- SPDX-License-Identifier: LGPL-2.1-or-later
-- Hosts and clusters: a host is a libvirt URI in one cluster; a cluster
-- caps how many desktops its hosts hold together. A desktop lives on one
-- host (its domain is defined there); a category names the cluster its
-- staff's desktops are placed in (else the cluster of the broker's own
-- host). A host's state is what the broker last saw of its connection;
-- maintenance is the admins' word that nothing new goes there.

CREATE TABLE IF NOT EXISTS clusters (
        id INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
        name VARCHAR(63) NOT NULL,
        capacity INT UNSIGNED NOT NULL,
        created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
        UNIQUE KEY name (name),
        CONSTRAINT clusters_capacity CHECK (capacity > 0)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS hosts (
        id INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
        name VARCHAR(63) NOT NULL,
        uri VARCHAR(255) NOT NULL,
        cluster_id INT UNSIGNED NOT NULL,
        -- where staff reach its RDP forwards; NULL: the broker's own
        -- public address (its own host)
        address INT UNSIGNED NULL DEFAULT NULL,
        maintenance BOOLEAN NOT NULL DEFAULT FALSE,
        state VARCHAR(8) NOT NULL DEFAULT 'down',
        state_reason VARCHAR(255) NOT NULL DEFAULT '',
        state_since TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
        created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
        UNIQUE KEY name (name),
        UNIQUE KEY uri (uri),
        CONSTRAINT hosts_cluster FOREIGN KEY (cluster_id) REFERENCES clusters (id) ON DELETE RESTRICT,
        CONSTRAINT hosts_state CHECK (state IN ('up', 'down'))
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- Desktops made before hosts existed live on the broker's own host; the
-- broker fills host_id in at start.
ALTER TABLE desktops
        ADD COLUMN IF NOT EXISTS host_id INT UNSIGNED NULL DEFAULT NULL AFTER network_id,
        ADD CONSTRAINT desktops_host FOREIGN KEY IF NOT EXISTS (host_id) REFERENCES hosts (id) ON DELETE RESTRICT;

ALTER TABLE categories
        ADD COLUMN IF NOT EXISTS cluster_id INT UNSIGNED NULL DEFAULT NULL AFTER network_id,
        ADD CONSTRAINT categories_cluster FOREIGN KEY IF NOT EXISTS (cluster_id) REFERENCES clusters (id) ON DELETE RESTRICT;
