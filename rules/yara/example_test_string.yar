/*
   The example YARA rule of the seed: it matches any file carrying the
   marker string below (the seed's demo binary embeds it and loops, so that
   a YARA hit plus active response terminates it). YARA matches are alerted
   at critical severity.
*/
rule ExampleMarkerString
{
    meta:
        description = "Example rule: matches files that contain the edr test marker string"
        author = "edr project"
        date = "2026-01-15"
        severity = "critical"
    strings:
        $marker = "EDR_EXAMPLE_MARKER_STRING_7f3a9c" ascii wide
    condition:
        $marker
}
