"""Tests of the Pipedrive and Mailchimp clients and their shared HTTP core."""
