-- SPDX-License-Identifier: LGPL-2.1-or-later
-- The host's desktop network ([Network]) hands out its addresses as a
-- department network does: its free ones are rows of host_free_addresses,
-- a desktop takes the lowest (one statement deletes and returns it: a seek
-- on the primary key, however many are taken) and gives it back when it
-- goes. Its range is vdesk.conf's, not the database's: the one row of
-- host_address_range names the range and gateway the free list was filled
-- for, and the broker fills it anew, within the transaction of the next
-- desktop it makes, when [Network] names others (as after this migration:
-- 0s, never filled). Desktops keep their addresses; one outside the range
-- is not given back. The row is also the lock that puts the network's
-- takings one after another.

CREATE TABLE IF NOT EXISTS host_address_range (
        id TINYINT UNSIGNED NOT NULL PRIMARY KEY,
        range_start INT UNSIGNED NOT NULL,
        range_end INT UNSIGNED NOT NULL,
        gateway INT UNSIGNED NOT NULL,
        CONSTRAINT host_address_range_one CHECK (id = 1)
) ENGINE=InnoDB;

INSERT IGNORE INTO host_address_range (id, range_start, range_end, gateway) VALUES (1, 0, 0, 0);

CREATE TABLE IF NOT EXISTS host_free_addresses (
        address INT UNSIGNED NOT NULL PRIMARY KEY
) ENGINE=InnoDB;
