rule ExampleMarkerString : demo test
{
    meta:
        description = "edr demo marker"
        score = 80
        private_flag = false
    strings:
        $marker = "EDR-YARA-DEMO-MARKER-7f3a"
        $hex = { 4D 5A 90 00 }
    condition:
        $marker and #hex >= 0
}
