package cli

import (
	"strings"
	"testing"
)

func TestHelp(t *testing.T) {
	net := newTinyNet()
	for _, v := range verbs {
		for _, args := range [][]string{{v.name, "--help"}, {v.name, "-h"}, {"help", v.name}} {
			t.Run(strings.Join(args, " "), func(t *testing.T) {
				code, out, errOut := run(t, net, args...)
				if code != ExitOK {
					t.Fatalf("exit %d, stderr %q", code, errOut)
				}
				if !strings.HasPrefix(out, "Usage: tiny "+v.name+" ") || !strings.Contains(out, "Flags:") {
					t.Errorf("help of %s:\n%s", v.name, out)
				}
			})
		}
	}
	t.Run("top", func(t *testing.T) {
		code, out, _ := run(t, net, "--help")
		if code != ExitOK {
			t.Fatalf("exit %d", code)
		}
		for _, v := range verbs {
			if !strings.Contains(out, "tiny "+v.name+" ") {
				t.Errorf("usage lacks %s:\n%s", v.name, out)
			}
		}
	})
}

func TestHelpFlags(t *testing.T) {
	want := map[string][]string{
		"info":    {"-json"},
		"train":   {"-data", "-out", "-epochs", "-limit", "-device", "-resume", "-init", "-threads"},
		"eval":    {"-weights", "-data", "-device", "-json", "-threads"},
		"predict": {"-weights", "-npy", "-out", "-device", "-threads"},
		"bench":   {"-device", "-batch", "-json", "-threads"},
		"export":  {"-weights", "-onnx"},
		"plot":    {"-out"},
	}
	for _, v := range verbs {
		t.Run(v.name, func(t *testing.T) {
			_, out, _ := run(t, newTinyNet(), v.name, "--help")
			for _, f := range want[v.name] {
				if !strings.Contains(out, "  "+f) {
					t.Errorf("help lacks %s:\n%s", f, out)
				}
			}
		})
	}
}

func TestUsageErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		code int
		msg  string
	}{
		{"no verb", nil, ExitUsage, "Usage:"},
		{"unknown verb", []string{"fly"}, ExitUsage, `unknown command "fly"`},
		{"unknown flag", []string{"info", "--bogus"}, ExitUsage, "flag provided but not defined: -bogus"},
		{"extra argument", []string{"info", "extra"}, ExitUsage, `unexpected argument "extra"`},
		{"train without data", []string{"train"}, ExitUsage, "--data DIR is required"},
		{"train negative epochs", []string{"train", "--data", "x", "--epochs", "-1"}, ExitUsage, "--epochs must be at least 1, got -1"},
		{"train zero epochs", []string{"train", "--data", "x", "--epochs", "0"}, ExitUsage, "--epochs must be at least 1, got 0"},
		{"train bad lr", []string{"train", "--data", "x", "--lr", "-0.1"}, ExitUsage, "--lr must be a number > 0"},
		{"train nan wd", []string{"train", "--data", "x", "--wd", "NaN"}, ExitUsage, "--wd must be a number >= 0"},
		{"train momentum 1", []string{"train", "--data", "x", "--momentum", "1"}, ExitUsage, "--momentum must be below 1"},
		{"train bad seed", []string{"train", "--data", "x", "--seed", "x1"}, ExitUsage, "--seed must be an integer >= 0"},
		{"train bad milestones", []string{"train", "--data", "x", "--milestones", "5,3"}, ExitUsage, "--milestones must be increasing"},
		{"train nesterov without momentum", []string{"train", "--data", "x", "--momentum", "0", "--nesterov", "true"}, ExitUsage, "Nesterov momentum needs momentum > 0"},
		{"train resume and init", []string{"train", "--data", "x", "--resume", "--init", "w"}, ExitUsage, "--resume and --init exclude each other"},
		{"train bad int", []string{"train", "--data", "x", "--epochs", "many"}, ExitUsage, `invalid value "many" for flag -epochs`},
		{"eval without weights", []string{"eval", "--data", "x"}, ExitUsage, "--weights W is required"},
		{"eval without data", []string{"eval", "--weights", "w"}, ExitUsage, "--data DIR is required"},
		{"predict nothing", []string{"predict", "--weights", "w"}, ExitUsage, "nothing to predict"},
		{"predict npy without out", []string{"predict", "--weights", "w", "--npy", "x.npy"}, ExitUsage, "--npy X.npy needs --out Y.npy"},
		{"predict out without npy", []string{"predict", "--weights", "w", "--out", "y.npy", "a.png"}, ExitUsage, "--out Y.npy goes with --npy"},
		{"predict both", []string{"predict", "--weights", "w", "--npy", "x.npy", "--out", "y.npy", "a.png"}, ExitUsage, "not both"},
		{"bench negative batch", []string{"bench", "--batch", "-3"}, ExitUsage, "--batch must be at least 1"},
		{"bench only what", []string{"bench", "--only", "speed"}, ExitUsage, "--only must be inference or training"},
		{"threads", []string{"bench", "--threads", "-1"}, ExitUsage, "--threads must be at least 1"},
		{"unknown device", []string{"bench", "--device", "tpu"}, ExitUsage, `--device must be cpu, cuda or sim, got "tpu"`},
		{"cuda", []string{"bench", "--device", "cuda"}, ExitRefused, "this binary was built without the cuda device (it has cpu)"},
		{"sim", []string{"eval", "--weights", "w", "--data", "d", "--device", "sim"}, ExitRefused, "built without the sim device"},
		{"train cuda", []string{"train", "--data", "d", "--device", "cuda"}, ExitRefused, "built without the cuda device"},
		{"export no onnx", []string{"export", "--weights", "w"}, ExitUsage, "--onnx OUT.onnx is required"},
		{"export missing weights", []string{"export", "--weights", "w", "--onnx", "m.onnx"}, ExitRefused, "w: no such file or directory (the weights file)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := run(t, newTinyNet(), tc.args...)
			if code != tc.code {
				t.Errorf("exit %d, want %d", code, tc.code)
			}
			if !strings.Contains(errOut, tc.msg) {
				t.Errorf("stderr %q lacks %q", errOut, tc.msg)
			}
			if out != "" {
				t.Errorf("stdout %q, want nothing", out)
			}
		})
	}
}
