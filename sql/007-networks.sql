-- SPDX-License-Identifier: LGPL-2.1-or-later
-- Department networks: each one subnet with its gateway and desktop range,
-- carried between hosts by a VLAN of an uplink or a VXLAN segment (or by
-- nothing: one host's bridge alone). A network's free desktop addresses
-- are rows of network_free_addresses, made with the network: a desktop
-- takes the lowest (one statement deletes and returns it, however many are
-- taken; the desktop's row then holds it) and gives it back when it goes. A category names the network its staff's desktops
-- join; without one they join the host's desktop network ([Network]).

CREATE TABLE IF NOT EXISTS networks (
        id INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
        name VARCHAR(63) NOT NULL,
        subnet INT UNSIGNED NOT NULL,
        prefix TINYINT UNSIGNED NOT NULL,
        gateway INT UNSIGNED NOT NULL,
        range_start INT UNSIGNED NOT NULL,
        range_end INT UNSIGNED NOT NULL,
        segment VARCHAR(8) NOT NULL,
        vlan_id SMALLINT UNSIGNED NULL DEFAULT NULL,
        uplink VARCHAR(15) NULL DEFAULT NULL,
        vni INT UNSIGNED NULL DEFAULT NULL,
        local_address INT UNSIGNED NULL DEFAULT NULL,
        vxlan_group INT UNSIGNED NULL DEFAULT NULL,
        vxlan_port SMALLINT UNSIGNED NULL DEFAULT NULL,
        mtu SMALLINT UNSIGNED NOT NULL,
        created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
        UNIQUE KEY name (name),
        UNIQUE KEY subnet (subnet),
        UNIQUE KEY uplink_vlan (uplink, vlan_id),
        UNIQUE KEY vni (vni),
        CONSTRAINT networks_segment CHECK (segment IN ('none', 'vlan', 'vxlan'))
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS network_peers (
        network_id INT UNSIGNED NOT NULL,
        address INT UNSIGNED NOT NULL,
        PRIMARY KEY (network_id, address),
        CONSTRAINT peers_network FOREIGN KEY (network_id) REFERENCES networks (id) ON DELETE CASCADE
) ENGINE=InnoDB;

CREATE TABLE IF NOT EXISTS network_free_addresses (
        network_id INT UNSIGNED NOT NULL,
        address INT UNSIGNED NOT NULL,
        PRIMARY KEY (network_id, address),
        CONSTRAINT free_network FOREIGN KEY (network_id) REFERENCES networks (id) ON DELETE CASCADE
) ENGINE=InnoDB;

ALTER TABLE desktops
        ADD COLUMN IF NOT EXISTS network_id INT UNSIGNED NULL DEFAULT NULL AFTER category_id,
        ADD CONSTRAINT desktops_network FOREIGN KEY IF NOT EXISTS (network_id) REFERENCES networks (id) ON DELETE RESTRICT;

-- A category's network was a name nothing checked; the catalog's networks
-- are referenced by id, and a name not in it meant the host's network.
ALTER TABLE categories
        ADD COLUMN IF NOT EXISTS network_id INT UNSIGNED NULL DEFAULT NULL AFTER template_id,
        ADD CONSTRAINT categories_network FOREIGN KEY IF NOT EXISTS (network_id) REFERENCES networks (id) ON DELETE RESTRICT;
ALTER TABLE categories DROP COLUMN IF EXISTS network;
