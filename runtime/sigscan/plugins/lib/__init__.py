"""What several plugins share (protocol encodings, fingerprint reading); no plugin lives here."""
