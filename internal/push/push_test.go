package push

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func TestPayloads(t *testing.T) {
	badge := 3
	full := Message{Title: "Your order shipped", Body: "Trail shoes are on the way <3", ImageURL: "https://cdn.example/s.png",
		DeepLink: "shop://orders/A-1", Sound: "default", Badge: &badge, Data: map[string]string{"orderId": "A-1"},
		Category: "ORDER", ChannelID: "orders"}
	tests := []struct {
		name string
		got  func() ([]byte, error)
		want string
	}{
		{"APNs carries alert, sound, badge, mutable-content and data", func() ([]byte, error) { return APNsPayload(full) },
			`{"aps":{"alert":{"title":"Your order shipped","body":"Trail shoes are on the way <3"},"sound":"default","badge":3,"mutable-content":1,"category":"ORDER"},"deepLink":"shop://orders/A-1","imageUrl":"https://cdn.example/s.png","orderId":"A-1"}`},
		{"a silent APNs push has content-available and no alert", func() ([]byte, error) {
			return APNsPayload(Message{Silent: true, Data: map[string]string{"sync": "1"}})
		},
			`{"aps":{"content-available":1},"sync":"1"}`},
		{"FCM carries notification, data, priority and channel", func() ([]byte, error) { return FCMPayload(full) },
			`{"fcmV1Message":{"message":{"notification":{"title":"Your order shipped","body":"Trail shoes are on the way <3","image":"https://cdn.example/s.png"},"data":{"deepLink":"shop://orders/A-1","imageUrl":"https://cdn.example/s.png","orderId":"A-1"},"android":{"priority":"high","notification":{"channel_id":"orders","sound":"default"}}}}}`},
		{"a silent FCM push is data only at normal priority", func() ([]byte, error) { return FCMPayload(Message{Silent: true, Data: map[string]string{"sync": "1"}}) },
			`{"fcmV1Message":{"message":{"data":{"sync":"1"},"android":{"priority":"normal"}}}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.got()
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("payload =\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}

func TestSNSMessageWrapsThePlatformPayloadAsAString(t *testing.T) {
	msg, size, err := SNSMessage(GCM, Message{Title: "t", Body: "b"})
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]string
	if err := json.Unmarshal([]byte(msg), &m); err != nil {
		t.Fatalf("SNS message is not a JSON object of strings: %v", err)
	}
	if m["default"] != "b" || len(m["GCM"]) != size || !json.Valid([]byte(m["GCM"])) {
		t.Errorf("SNS message = %s (size %d)", msg, size)
	}
}

func TestSNSMessageRefusesPayloadsOver4KB(t *testing.T) {
	_, size, err := SNSMessage(APNS, Message{Body: strings.Repeat("x", MaxPayload)})
	if !errors.Is(err, ErrTooLarge) || size <= MaxPayload {
		t.Errorf("SNSMessage(5 KB body) = size %d, %v; want ErrTooLarge", size, err)
	}
	if _, _, err := SNSMessage("WNS", Message{}); err == nil {
		t.Error("SNSMessage accepted an unknown platform")
	}
}

func TestParsePlatform(t *testing.T) {
	tests := []struct {
		in   string
		want string // "" when refused
	}{
		{"APNS", APNS},
		{"APNS_SANDBOX", APNSSandbox},
		{"GCM", GCM},
		{"apns", APNS},
		{"Apns", APNS},
		{"ios", APNS},
		{"iOS", APNS},
		{"apnsSandbox", APNSSandbox},
		{"apns_sandbox", APNSSandbox},
		{"apns-sandbox", APNSSandbox},
		{"fcm", GCM},
		{"FCM", GCM},
		{"gcm", GCM},
		{"android", GCM},
		{"Android", GCM},
		{"", ""},
		{"WNS", ""},
		{"ADM", ""},
		{"apns ", ""},
		{"sandbox", ""},
		{"a_pns", ""},
	}
	for _, tt := range tests {
		name := tt.in + " is " + tt.want
		if tt.want == "" {
			name = "refuses " + tt.in
		}
		t.Run(name, func(t *testing.T) {
			got, ok := ParsePlatform(tt.in)
			if got != tt.want || ok != (tt.want != "") {
				t.Errorf("ParsePlatform(%q) = %q, %t; want %q", tt.in, got, ok, tt.want)
			}
		})
	}
}
