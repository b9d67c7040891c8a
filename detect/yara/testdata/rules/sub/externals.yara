rule ExternalsFilename
{
    condition:
        filename == "dropper.exe" and extension == ".exe" and filetype == "EXE" and filepath endswith "\\Temp"
}
