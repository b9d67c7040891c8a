import "nosuchmodule"
rule UsesMissingModule
{
    condition:
        nosuchmodule.x == 1
}
