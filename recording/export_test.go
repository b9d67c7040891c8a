package recording

// For the tests of package recording_test, which import packages that
// import recording (the importer).
var (
	DuckDBScript = duckdbScript
	DuckQuery    = duckQuery
	Num          = num
	ReadAll      = readAll
)
