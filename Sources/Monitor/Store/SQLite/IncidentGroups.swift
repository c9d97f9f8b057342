import Foundation
import GRDB

/// Correlation: `incidents.group_key` (a property's host and service) and `incident_members` (the properties
/// whose transitions an incident holds, `open` while the property is not healthy). A property whose group
/// already has an open incident joins it; the incident closes when no member is open.
enum IncidentGroupRepository {
    static func registerMigration(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("monitor-v3-correlation") { db in
            try db.execute(
                sql: """
                    ALTER TABLE incidents ADD COLUMN group_key TEXT;
                    CREATE INDEX incidents_open_group ON incidents(group_key) WHERE closed_at IS NULL;
                    CREATE TABLE incident_members (
                        incident_id INTEGER NOT NULL REFERENCES incidents(id),
                        property TEXT NOT NULL,
                        open INTEGER NOT NULL,
                        PRIMARY KEY (incident_id, property)
                    );
                    """
            )
        }
    }

    static func openIncident(_ db: Database, group: String) throws -> Incident? {
        try IncidentRecord.fetchOne(
            db,
            sql: "SELECT * FROM incidents WHERE closed_at IS NULL AND group_key = ? ORDER BY id LIMIT 1",
            arguments: [group]
        )?.incident
    }

    static func setGroup(_ db: Database, _ id: IncidentID, _ group: String) throws {
        try db.execute(sql: "UPDATE incidents SET group_key = ? WHERE id = ?", arguments: [group, id.rawValue])
    }

    static func join(_ db: Database, _ id: IncidentID, property: String) throws {
        try db.execute(
            sql: """
                INSERT INTO incident_members (incident_id, property, open) VALUES (?, ?, 1)
                ON CONFLICT (incident_id, property) DO UPDATE SET open = 1
                """,
            arguments: [id.rawValue, property]
        )
    }

    static func leave(_ db: Database, _ id: IncidentID, property: String) throws {
        try db.execute(
            sql: "UPDATE incident_members SET open = 0 WHERE incident_id = ? AND property = ?",
            arguments: [id.rawValue, property]
        )
    }

    static func openMembers(_ db: Database, _ id: IncidentID) throws -> Int {
        try Int.fetchOne(
            db,
            sql: "SELECT COUNT(*) FROM incident_members WHERE incident_id = ? AND open = 1",
            arguments: [id.rawValue]
        ) ?? 0
    }
}
