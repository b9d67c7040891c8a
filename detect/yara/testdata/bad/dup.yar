rule ExampleMarkerString
{
    condition:
        true
}
