module rune.example/go/rune

go 1.19
