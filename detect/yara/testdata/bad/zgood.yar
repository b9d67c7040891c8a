rule AlsoCompiles
{
    strings:
        $a = "also-compiles"
    condition:
        $a
}
