-- SPDX-License-Identifier: LGPL-2.1-or-later
-- The desktops' RDP ports ([Forward] PortMin= to PortMax=) handed out as
-- the host network's addresses are (011): the free ones are rows of
-- rdp_free_ports, a desktop takes the lowest (a seek on the primary key,
-- however many desktops there are) and gives it back when it goes. The one
-- row of rdp_port_range names the range the list was filled for, and is
-- the lock that puts takings one after another; the broker fills the list
-- anew, within the transaction of the next desktop it makes, when
-- vdesk.conf names another range (as after this migration: 0s, never
-- filled). Desktops keep their ports; one outside the range is not given
-- back.

CREATE TABLE IF NOT EXISTS rdp_port_range (
        id TINYINT UNSIGNED NOT NULL PRIMARY KEY,
        port_min SMALLINT UNSIGNED NOT NULL,
        port_max SMALLINT UNSIGNED NOT NULL,
        CONSTRAINT rdp_port_range_one CHECK (id = 1)
) ENGINE=InnoDB;

INSERT IGNORE INTO rdp_port_range (id, port_min, port_max) VALUES (1, 0, 0);

CREATE TABLE IF NOT EXISTS rdp_free_ports (
        port SMALLINT UNSIGNED NOT NULL PRIMARY KEY
) ENGINE=InnoDB;
