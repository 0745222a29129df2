"""The online channel: the public survey on a visitor's own phone, QR codes and one-time tickets."""
