package localcloud

import "testing"

func TestExpandReplacesDemoPlaceholders(t *testing.T) {
	d := Demo{CampaignID: "c-1", KeyID: "hk_1"}
	tests := []struct {
		name, in, want string
		wantErr        bool
	}{
		{"known placeholders", `{"campaignId":"${demo.campaignId}","k":"${demo.keyId}"}`, `{"campaignId":"c-1","k":"hk_1"}`, false},
		{"no placeholders", `{"a":"${notDemo}"}`, `{"a":"${notDemo}"}`, false},
		{"a typo is an error", `{"campaignId":"${demo.campaignID}"}`, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := d.Expand([]byte(tt.in))
			if (err != nil) != tt.wantErr {
				t.Fatalf("Expand error = %v, want error %v", err, tt.wantErr)
			}
			if !tt.wantErr && string(got) != tt.want {
				t.Errorf("Expand = %s, want %s", got, tt.want)
			}
		})
	}
}
