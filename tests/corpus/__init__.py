"""Test corpora built at test time from the installed Nmap files (never copied into the repo):
responses generated from match patterns (:mod:`.generate`), a loopback server that plays them
(:mod:`.banner_server`), and a runner for the real ``nmap -sV`` (:mod:`.nmap_xml`)."""
