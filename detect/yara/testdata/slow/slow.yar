rule SlowQuadratic
{
    condition:
        for all i in (0..filesize - 1) : (
            for all j in (0..filesize - 1) : ( uint8(i) != 0xFF and uint8(j) != 0xFE )
        )
}
