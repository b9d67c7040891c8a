// Package event owns the normalized event of edr: one schema table (channel,
// EventID → ordered fields with their Windows renderings) that is the single
// source of truth for the Parquet columns, Sigma field resolution and the ECS
// mapping. Each event type also says which process roles its fields play
// (roles.go): whether it starts or ends a process, which fields name the
// acting process, its parent and the process acted on, and whether PIDs are
// rendered in hex.
//
// Every field value is a string exactly as Windows renders it in event XML
// (Sysmon's formats: UtcTime "2006-01-02 15:04:05.000", GUIDs "{lower-case}",
// LogonId "0x3e7", booleans "true"/"false"). Fields are addressed by a compact
// FieldID resolved once; a field that is absent is distinct from a field that
// is present and empty. Anything the schema does not name is kept, in order,
// in the event's generic key/value part, so no field of any event is dropped.
package event
