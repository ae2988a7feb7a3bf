"""Store dashboard and signage pages: face_report's numbers in a browser, live, with a JSON API."""
