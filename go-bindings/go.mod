module rune.example/go/librune

go 1.19
