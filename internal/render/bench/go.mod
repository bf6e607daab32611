module github.com/heraldhq/herald/internal/render/bench

go 1.26.6

require (
	github.com/heraldhq/herald v0.0.0
	github.com/mailgun/raymond/v2 v2.0.48
)

require (
	github.com/sirupsen/logrus v1.9.3 // indirect
	golang.org/x/sys v0.18.0 // indirect
)

replace github.com/heraldhq/herald => ../../..
